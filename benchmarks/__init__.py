"""Side-by-side training benchmarks: symprop against PyTorch eager, scikit-learn, NumPy.

Run ``python -m benchmarks`` from the repository root; see ``benchmarks/README.md``.
"""
