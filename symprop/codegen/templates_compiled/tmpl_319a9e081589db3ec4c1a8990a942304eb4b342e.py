from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'cuda_common.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_F = resolve('F')
    l_0_cublas = resolve('cublas')
    pass
    yield '# -- data movement ------------------------------------------------------------------------\n\n\n@cuda.jit\ndef gather(X, Y, perm, start, nb, XB, YB, with_targets):\n    """Rows perm[start:start + nb] of X (and Y) into the batch buffers, one thread per\n    element of a row, so that neighbouring threads copy neighbouring elements."""\n    i = cuda.grid(1)\n    r = i // XB.shape[1]\n    if r < nb:\n        k = i - r * XB.shape[1]\n        XB[r, k] = X[perm[start + r], k]\n    r = i // YB.shape[1]\n    if with_targets and r < nb:\n        j = i - r * YB.shape[1]\n        YB[r, j] = Y[perm[start + r], j]\n\n\n@cuda.jit\ndef scatter(A, out, perm, start, nb):\n    """Output rows back to their places in out."""\n    r = cuda.grid(1)\n    if r >= nb:\n        return\n    dst = perm[start + r]\n    for j in range(out.shape[1]):\n        out[dst, j] = A[r, j]\n\n\n@cuda.jit\ndef matmul_tiled(A, B, C, m, n, k, transpose_a, transpose_b):\n    """C[:m, :n] = op(A) @ op(B), one TILE x TILE block of C per thread block. Rows of C\n    go along the grid\'s x (up to 2**31 - 1 blocks: gradients() takes every sample as one\n    batch), columns along y (layer widths, far below its 65535)."""\n    sa = cuda.shared.array((TILE, TILE), dtype='
    yield str((undefined(name='F') if l_0_F is missing else l_0_F))
    yield ')\n    sb = cuda.shared.array((TILE, TILE), dtype='
    yield str((undefined(name='F') if l_0_F is missing else l_0_F))
    yield ')\n    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y\n    row = cuda.blockIdx.x * TILE + ty\n    col = cuda.blockIdx.y * TILE + tx\n    acc = '
    yield str((undefined(name='F') if l_0_F is missing else l_0_F))
    yield '(0.0)\n    for base in range(0, k, TILE):\n        q = base + tx\n        if row < m and q < k:\n            sa[ty, tx] = A[q, row] if transpose_a else A[row, q]\n        else:\n            sa[ty, tx] = '
    yield str((undefined(name='F') if l_0_F is missing else l_0_F))
    yield '(0.0)\n        q = base + ty\n        if col < n and q < k:\n            sb[ty, tx] = B[col, q] if transpose_b else B[q, col]\n        else:\n            sb[ty, tx] = '
    yield str((undefined(name='F') if l_0_F is missing else l_0_F))
    yield '(0.0)\n        cuda.syncthreads()\n        for q in range(TILE):\n            acc += sa[ty, q] * sb[q, tx]\n        cuda.syncthreads()\n    if row < m and col < n:\n        C[row, col] = acc\n'
    if (undefined(name='cublas') if l_0_cublas is missing else l_0_cublas):
        pass
        yield "\n\ndef _cupy(views, array):\n    view = views.get(id(array))\n    if view is None:  # the dict keeps array's view, and so array, alive: ids stay unique\n        view = views[id(array)] = cupy.asarray(array)\n    return view\n"
    yield '\n\ndef matmul(A, B, C, m, n, k, transpose_a, transpose_b'
    yield str((', views=None' if (undefined(name='cublas') if l_0_cublas is missing else l_0_cublas) else ''))
    yield '):\n    """C[:m, :n] = op(A) @ op(B) on the device (op(A) is m x k, op(B) k x n)."""\n'
    if (undefined(name='cublas') if l_0_cublas is missing else l_0_cublas):
        pass
        yield '    if USE_CUPY:\n        views = {} if views is None else views\n        key = (id(A), id(B), id(C), m, n, k, transpose_a, transpose_b)  # each full batch: same\n        operands = views.get(key)\n        if operands is None:\n            a, b, c = _cupy(views, A), _cupy(views, B), _cupy(views, C)\n            operands = views[key] = (a[:k].T if transpose_a else a[:m],\n                                     b.T if transpose_b else b[:k], c[:m])\n        cupy.matmul(operands[0], operands[1], out=operands[2])\n        return\n'
    yield '    grid = ((m + TILE - 1) // TILE, (n + TILE - 1) // TILE)\n    matmul_tiled[grid, (TILE, TILE)](A, B, C, m, n, k, transpose_a, transpose_b)\n'

blocks = {}
debug_info = '36=14&37=16&41=18&47=20&52=22&59=24&70=28&72=30'