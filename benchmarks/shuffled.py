"""fit with its default shuffling against rows in order: ``python -m benchmarks.shuffled``.

The tiny case's network (20-32-1, relu, sigmoid, bce, batch 32, SGD) through
``net.fit(X, y, epochs=1, shuffle=...)`` on the case's seeded data, warm, time per step:
the median of the repeats, shuffled and in order alternating within the process. A
shuffled epoch gathers each batch's rows from all over X; 128,000 rows of 20 float32 (10
MB) are more than the caches hold, so each row read is a cache miss unless it was
prefetched (symprop/codegen/prefetch.py). The shuffled time includes fit's shuffle of the
rows, about 0.06 us a step here (0.23 ms for 128,000 rows).
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks.cases import CASES, make_data


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=128_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.repeats < 1:
        parser.error("--rows and --repeats must be at least 1")

    import symprop as sp

    case = CASES["tiny"]
    X, y = make_data(case, args.rows)
    net = sp.Network([sp.Dense(n_in, n_out, act) for n_in, n_out, act in case.layers],
                     loss=case.loss, dtype=case.dtype, seed=0)
    steps = -(-args.rows // case.batch)
    times: dict[bool, list[float]] = {False: [], True: []}

    def fit(shuffle: bool) -> float:
        began = time.perf_counter()
        net.fit(X, y, epochs=1, batch_size=case.batch,
                optimizer=sp.SGD(lr=case.lr), shuffle=shuffle, verbose=False)
        return time.perf_counter() - began

    for shuffle in times:  # compiled, and the compiled shuffle in use, before the clock
        fit(shuffle)
    for _ in range(args.repeats):
        for shuffle in times:
            times[shuffle].append(fit(shuffle) / steps)
    result = {("shuffled" if shuffle else "in_order"): statistics.median(values)
              for shuffle, values in times.items()}
    print(f"tiny ({case.describe()}), {args.rows} rows, fit(epochs=1), median of "
          f"{args.repeats}:")
    for shuffle, values in times.items():
        print(f"  shuffle={shuffle!s:5}  {1e6 * statistics.median(values):.2f} us a step "
              f"({1e6 * min(values):.2f}-{1e6 * max(values):.2f})")
    print(f"  shuffled / in order: {result['shuffled'] / result['in_order']:.2f}")
    return result


if __name__ == "__main__":
    main()
