from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'cuda_update.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_plan = resolve('plan')
    l_0_F = resolve('F')
    l_0_namespace = resolve('namespace')
    l_0_m = l_0_tensors = l_0_single = l_0_scalars = l_0_news = l_0_outs = l_0_offset = missing
    try:
        t_1 = environment.filters['join']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'join' found.")
    try:
        t_2 = environment.filters['list']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'list' found.")
    try:
        t_3 = environment.filters['map']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'map' found.")
    pass
    l_0_m = context.vars['m'] = environment.get_template('macros.j2', 'cuda_update.j2')._get_default_module(context)
    context.exported_vars.discard('m')
    l_0_tensors = environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'param_sizes')
    context.vars['tensors'] = l_0_tensors
    context.exported_vars.add('tensors')
    yield '# -- gradients and the update ---------------------------------------------------------------\n\n\n@cuda.jit\ndef column_sums(D, db, nb):\n    """db = column sums of D[:nb] (the bias gradient). A block sums SUM_COLS columns: its\n    SUM_ROWS rows of threads each add every SUM_ROWS-th row (neighbouring threads read\n    neighbouring columns), then the rows of partial sums are added in shared memory."""\n    partial = cuda.shared.array((SUM_ROWS, SUM_COLS), dtype='
    yield str((undefined(name='F') if l_0_F is missing else l_0_F))
    yield ')\n    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y\n    j = cuda.blockIdx.x * SUM_COLS + tx\n    acc = '
    yield str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), (undefined(name='plan') if l_0_plan is missing else l_0_plan), 0.0))
    yield '\n    if j < db.shape[0]:\n        for r in range(ty, nb, SUM_ROWS):\n            acc += D[r, j]\n    partial[ty, tx] = acc\n    cuda.syncthreads()\n    half = SUM_ROWS // 2\n    while half > 0:\n        if ty < half:\n            partial[ty, tx] += partial[ty + half, tx]\n        cuda.syncthreads()\n        half //= 2\n    if ty == 0 and j < db.shape[0]:\n        db[j] = partial[0, tx]\n\n\n@cuda.jit\ndef add_squares(total, '
    yield str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'args'), environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'grads')))
    yield '):\n    """total[0] += the sum of squares of every gradient (the global norm, for clipping):\n    each thread a strided share of every tensor, a block\'s shares added in shared memory,\n    one atomic add per block."""\n    partial = cuda.shared.array(TPB, dtype=np.float64)\n    t = cuda.threadIdx.x\n    first, stride = cuda.grid(1), cuda.gridsize(1)\n    acc = 0.0\n'
    for (l_1_name, l_1_size) in (undefined(name='tensors') if l_0_tensors is missing else l_0_tensors):
        _loop_vars = {}
        pass
        yield '    for i in range(first, '
        yield str(l_1_size)
        yield ', stride):\n        acc += np.float64(d'
        yield str(l_1_name)
        yield '[i]) * np.float64(d'
        yield str(l_1_name)
        yield '[i])\n'
    l_1_name = l_1_size = missing
    yield '    partial[t] = acc\n    cuda.syncthreads()\n    half = TPB // 2\n    while half > 0:\n        if t < half:\n            partial[t] += partial[t + half]\n        cuda.syncthreads()\n        half //= 2\n    if t == 0:\n        cuda.atomic.add(total, 0, partial[0])\n\n\n'
    l_0_single = (environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'float_type') == 'float32')
    context.vars['single'] = l_0_single
    context.exported_vars.add('single')
    l_0_scalars = ((['scale'] + t_2(context.eval_ctx, t_3(context, environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'invariant'), attribute=0))) + environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'hyper'))
    context.vars['scalars'] = l_0_scalars
    context.exported_vars.add('scalars')
    l_0_news = ['w_new']
    context.vars['news'] = l_0_news
    context.exported_vars.add('news')
    for l_1_s in environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'state'):
        l_1__ = missing
        _loop_vars = {}
        pass
        l_1__ = context.call(environment.getattr((undefined(name='news') if l_0_news is missing else l_0_news), 'append'), str_join((l_1_s, '_new', )), _loop_vars=_loop_vars)
        _loop_vars['_'] = l_1__
    l_1_s = l_1__ = missing
    l_0_outs = t_1(context.eval_ctx, (undefined(name='news') if l_0_news is missing else l_0_news), ', ')
    context.vars['outs'] = l_0_outs
    context.exported_vars.add('outs')
    yield '@cuda.jit(device=True)\ndef _stepped(w, g'
    for l_1_s in environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'state'):
        _loop_vars = {}
        pass
        yield ', '
        yield str(l_1_s)
    l_1_s = missing
    yield ', step'
    for l_1_name in (undefined(name='scalars') if l_0_scalars is missing else l_0_scalars):
        _loop_vars = {}
        pass
        yield ', '
        yield str(l_1_name)
        yield str(('_in' if (undefined(name='single') if l_0_single is missing else l_0_single) else cond_expr_undefined("the inline if-expression on line 64 in 'cuda_update.j2' evaluated to false and no else section was defined.")))
    l_1_name = missing
    yield '):\n    """'
    yield str(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'optimizer_name'))
    yield ' on one element: its new value'
    yield str((' and state' if environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'state') else cond_expr_undefined("the inline if-expression on line 65 in 'cuda_update.j2' evaluated to false and no else section was defined.")))
    yield ', the gradient scaled\n    first'
    yield str(("; in float32 throughout, as the CPU's update_flat (1 - beta comes in, made in double)" if (undefined(name='single') if l_0_single is missing else l_0_single) else cond_expr_undefined("the inline if-expression on line 66 in 'cuda_update.j2' evaluated to false and no else section was defined.")))
    yield '."""\n'
    if (undefined(name='single') if l_0_single is missing else l_0_single):
        pass
        for l_1_name in (undefined(name='scalars') if l_0_scalars is missing else l_0_scalars):
            _loop_vars = {}
            pass
            yield '    '
            yield str(l_1_name)
            yield ' = np.float32('
            yield str(l_1_name)
            yield '_in)\n'
        l_1_name = missing
    yield '    g = g * scale\n'
    yield str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'lines'), 4))
    yield '\n    return '
    yield str((undefined(name='outs') if l_0_outs is missing else l_0_outs))
    yield str((',' if (not environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'state')) else cond_expr_undefined("the inline if-expression on line 74 in 'cuda_update.j2' evaluated to false and no else section was defined.")))
    yield '\n\n\n@cuda.jit(device=True)\ndef _update_element(P, G, '
    for l_1_s in environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'state'):
        _loop_vars = {}
        pass
        yield 'S_'
        yield str(l_1_s)
        yield ', '
    l_1_s = missing
    yield 'i, scale, step'
    for l_1_c in environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'invariant'):
        _loop_vars = {}
        pass
        yield ', '
        yield str(environment.getitem(l_1_c, 0))
    l_1_c = missing
    yield str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'hyper')))
    yield '):\n    """'
    yield str(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'optimizer_name'))
    yield ' on element i of one flattened parameter tensor; 0 if the new\n    values are finite, else NaN (a product with zero is NaN exactly for inf and NaN)."""\n    '
    yield str((undefined(name='outs') if l_0_outs is missing else l_0_outs))
    yield str((',' if (not environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'state')) else cond_expr_undefined("the inline if-expression on line 81 in 'cuda_update.j2' evaluated to false and no else section was defined.")))
    yield ' = _stepped(P[i], G[i]'
    for l_1_s in environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'state'):
        _loop_vars = {}
        pass
        yield ', S_'
        yield str(l_1_s)
        yield '[i]'
    l_1_s = missing
    yield ', step, '
    yield str(t_1(context.eval_ctx, (undefined(name='scalars') if l_0_scalars is missing else l_0_scalars), ', '))
    yield ')\n    P[i] = w_new\n'
    for l_1_s in environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'state'):
        _loop_vars = {}
        pass
        yield '    S_'
        yield str(l_1_s)
        yield '[i] = '
        yield str(l_1_s)
        yield '_new\n'
    l_1_s = missing
    yield '    return P[i] * '
    yield str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), (undefined(name='plan') if l_0_plan is missing else l_0_plan), 0.0))
    for l_1_s in environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'state'):
        _loop_vars = {}
        pass
        yield ' + S_'
        yield str(l_1_s)
        yield '[i] * '
        yield str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), (undefined(name='plan') if l_0_plan is missing else l_0_plan), 0.0, _loop_vars=_loop_vars))
    l_1_s = missing
    yield '\n\n\n@cuda.jit\ndef update(status, bi, norm_sq, clip_norm, step'
    for l_1_p in environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'params'):
        _loop_vars = {}
        pass
        yield ', '
        yield str(l_1_p)
        yield ', d'
        yield str(l_1_p)
        for l_2_s in environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'state'):
            _loop_vars = {}
            pass
            yield ', '
            yield str(l_2_s)
            yield '_'
            yield str(l_1_p)
        l_2_s = missing
    l_1_p = missing
    yield str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'hyper')))
    yield '):\n    """'
    yield str(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'optimizer_name'))
    yield ' on every parameter tensor, flattened: one thread per element\n    of them all; nothing once a loss or an update was not finite. status[1] becomes\n    bi + 1 where a new value is not finite."""\n    i = cuda.grid(1)\n    if i >= '
    yield str(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'param_count'))
    yield ' or status[0] != 0 or status[1] != 0:\n        return\n    scale = 1.0\n    if clip_norm > 0.0:\n        norm = math.sqrt(norm_sq[0])\n        if norm > clip_norm:\n            scale = clip_norm / (norm + 1e-6)\n'
    for l_1_c in environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'invariant'):
        _loop_vars = {}
        pass
        yield '    '
        yield str(environment.getitem(l_1_c, 0))
        yield ' = '
        yield str(environment.getitem(l_1_c, 1))
        yield '\n'
    l_1_c = missing
    yield '    nonfinite = 0.0\n'
    l_0_offset = context.call((undefined(name='namespace') if l_0_namespace is missing else l_0_namespace), value=0)
    context.vars['offset'] = l_0_offset
    context.exported_vars.add('offset')
    l_1_loop = missing
    for (l_1_name, l_1_size), l_1_loop in LoopContext((undefined(name='tensors') if l_0_tensors is missing else l_0_tensors), undefined):
        _loop_vars = {}
        pass
        yield '    '
        yield str(('if' if environment.getattr(l_1_loop, 'first') else 'elif'))
        yield ' i < '
        yield str((environment.getattr((undefined(name='offset') if l_0_offset is missing else l_0_offset), 'value') + l_1_size))
        yield ':\n        nonfinite = _update_element('
        yield str(l_1_name)
        yield ', d'
        yield str(l_1_name)
        yield ', '
        for l_2_s in environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'state'):
            _loop_vars = {}
            pass
            yield str(l_2_s)
            yield '_'
            yield str(l_1_name)
            yield ', '
        l_2_s = missing
        yield str((('i - %d' % environment.getattr((undefined(name='offset') if l_0_offset is missing else l_0_offset), 'value')) if environment.getattr((undefined(name='offset') if l_0_offset is missing else l_0_offset), 'value') else 'i'))
        yield ', scale, step'
        for l_2_c in environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'invariant'):
            _loop_vars = {}
            pass
            yield ', '
            yield str(environment.getitem(l_2_c, 0))
        l_2_c = missing
        yield str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr((undefined(name='plan') if l_0_plan is missing else l_0_plan), 'update'), 'hyper'), _loop_vars=_loop_vars))
        yield ')\n'
        if not isinstance(l_0_offset, Namespace):
            raise TemplateRuntimeError("cannot assign attribute on non-namespace object")
        l_0_offset['value'] = (environment.getattr((undefined(name='offset') if l_0_offset is missing else l_0_offset), 'value') + l_1_size)
    l_1_loop = l_1_name = l_1_size = missing
    yield '    if nonfinite != 0.0:\n        status[1] = bi + 1\n'

blocks = {}
debug_info = '4=33&5=35&14=39&17=41&34=43&42=45&43=49&44=51&58=57&59=60&60=63&61=66&62=73&64=77&65=92&66=96&67=98&68=100&69=104&73=110&74=112&78=115&79=131&81=133&83=146&84=150&86=156&91=166&92=184&96=186&103=188&104=192&107=198&108=202&109=206&110=210&111=234'