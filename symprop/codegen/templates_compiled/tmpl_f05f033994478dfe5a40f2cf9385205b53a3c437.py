from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'cuda_blocks.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_m = l_0_kernels = l_0_launchers = l_0_dense_forward = l_0_forward_node = l_0_backward_step = missing
    try:
        t_1 = environment.filters['list']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'list' found.")
    try:
        t_2 = environment.filters['map']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'map' found.")
    try:
        t_3 = environment.filters['selectattr']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'selectattr' found.")
    try:
        t_4 = environment.filters['unique']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No filter named 'unique' found.")
    try:
        t_5 = environment.tests['defined']
    except KeyError:
        @internalcode
        def t_5(*unused):
            raise TemplateRuntimeError("No test named 'defined' found.")
    pass
    l_0_m = context.vars['m'] = environment.get_template('macros.j2', 'cuda_blocks.j2')._get_default_module(context)
    context.exported_vars.discard('m')
    def macro(l_1_plan):
        t_6 = []
        l_1_F = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        l_1_F = environment.getattr(l_1_plan, 'float_type')
        if t_1(context.eval_ctx, t_3(context, environment.getattr(l_1_plan, 'norms'), 'kind', 'equalto', 'batchnorm')):
            pass
            t_6.extend((
                '\n\n@cuda.jit\ndef batchnorm_forward(X, nb, gamma, beta, H, XH, MU, IS, RM, RV, batch_stats, update_running, momentum, eps):\n    """Unit k: H = gamma * XH + beta, XH = (X - mu) / sqrt(var + eps) over the nb rows, with\n    this batch\'s mean and (biased) variance (batch_stats; update_running also moves RM, RV\n    towards them by momentum, the variance unbiased) or the running ones."""\n    k = cuda.grid(1)\n    if k >= X.shape[1]:\n        return\n    if batch_stats:\n        mu = ',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                '(0.0)\n        for r in range(nb):\n            mu += X[r, k]\n        mu /= nb\n        squares = ',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                '(0.0)\n        for r in range(nb):\n            d = X[r, k] - mu\n            squares += d * d\n        var = squares / nb\n        if update_running:\n            RM[k] = (1.0 - momentum) * RM[k] + momentum * mu\n            RV[k] = (1.0 - momentum) * RV[k] + momentum * (squares / (nb - 1) if nb > 1 else var)\n        inv = 1.0 / math.sqrt(var + eps)\n    else:\n        mu = RM[k]\n        inv = 1.0 / math.sqrt(RV[k] + eps)\n    MU[k] = mu\n    IS[k] = inv\n    for r in range(nb):\n        xh = (X[r, k] - mu) * inv\n        XH[r, k] = xh\n        H[r, k] = gamma[k] * xh + beta[k]\n\n\n@cuda.jit\ndef batchnorm_backward(G, XH, IS, gamma, nb, E, dgamma, dbeta):\n    """Unit k, from G = dJ/dH: dgamma = sum_r G XH, dbeta = sum_r G, and the input\'s\n    gradient gamma / (m sigma) (m G - sum_r G - XH sum_r G XH), m = nb."""\n    k = cuda.grid(1)\n    if k >= G.shape[1]:\n        return\n    sum_g = ',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                '(0.0)\n    sum_gx = ',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                '(0.0)\n    for r in range(nb):\n        sum_g += G[r, k]\n        sum_gx += G[r, k] * XH[r, k]\n    dgamma[k] = sum_gx\n    dbeta[k] = sum_g\n    scale = gamma[k] * IS[k] / nb\n    for r in range(nb):\n        E[r, k] = scale * (nb * G[r, k] - sum_g - XH[r, k] * sum_gx)\n',
            ))
        if t_1(context.eval_ctx, t_3(context, environment.getattr(l_1_plan, 'norms'), 'kind', 'equalto', 'layernorm')):
            pass
            t_6.extend((
                '\n\n@cuda.jit\ndef layernorm_forward(X, nb, gamma, beta, H, XH, IS, eps):\n    """Row r: H = gamma * XH + beta, XH = (X - mu) / sqrt(var + eps) over the row\'s units;\n    IS[r, 0] keeps its 1/sqrt(var + eps)."""\n    r = cuda.grid(1)\n    if r >= nb:\n        return\n    n = X.shape[1]\n    mu = ',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                '(0.0)\n    for k in range(n):\n        mu += X[r, k]\n    mu /= n\n    var = ',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                '(0.0)\n    for k in range(n):\n        d = X[r, k] - mu\n        var += d * d\n    inv = 1.0 / math.sqrt(var / n + eps)\n    IS[r, 0] = inv\n    for k in range(n):\n        xh = (X[r, k] - mu) * inv\n        XH[r, k] = xh\n        H[r, k] = gamma[k] * xh + beta[k]\n\n\n@cuda.jit\ndef layernorm_backward(G, XH, IS, gamma, nb, E):\n    """Row r\'s input gradient: sigma^-1 / n (n gamma G - sum_j gamma_j G_j - XH sum_j\n    gamma_j G_j XH_j)."""\n    r = cuda.grid(1)\n    if r >= nb:\n        return\n    n = G.shape[1]\n    s1 = ',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                '(0.0)\n    s2 = ',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                '(0.0)\n    for k in range(n):\n        gg = gamma[k] * G[r, k]\n        s1 += gg\n        s2 += gg * XH[r, k]\n    scale = IS[r, 0] / n\n    for k in range(n):\n        E[r, k] = scale * (n * gamma[k] * G[r, k] - s1 - XH[r, k] * s2)\n\n\n@cuda.jit\ndef norm_param_grads(G, XH, nb, dgamma, dbeta):\n    """Unit k: dgamma = sum_r G XH, dbeta = sum_r G (layer normalization\'s)."""\n    k = cuda.grid(1)\n    if k >= G.shape[1]:\n        return\n    sum_g = ',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                '(0.0)\n    sum_gx = ',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                '(0.0)\n    for r in range(nb):\n        sum_g += G[r, k]\n        sum_gx += G[r, k] * XH[r, k]\n    dgamma[k] = sum_gx\n    dbeta[k] = sum_g\n',
            ))
        t_6.append(
            '\n\n@cuda.jit\ndef add_rows(A, B, OUT, nb):\n    """OUT = A + B on the first nb rows: a residual block\'s input plus its body\'s output."""\n    i = cuda.grid(1)\n    if i >= nb * OUT.shape[1]:\n        return\n    r = i // OUT.shape[1]\n    k = i - r * OUT.shape[1]\n    OUT[r, k] = A[r, k] + B[r, k]\n\n\n@cuda.jit\ndef accumulate(G, E, nb):\n    """G += E on the first nb rows: a value with two consumers gets both gradients."""\n    i = cuda.grid(1)\n    if i >= nb * G.shape[1]:\n        return\n    r = i // G.shape[1]\n    k = i - r * G.shape[1]\n    G[r, k] += E[r, k]',
        )
        return concat(t_6)
    context.exported_vars.add('kernels')
    context.vars['kernels'] = l_0_kernels = Macro(environment, macro, 'kernels', ('plan',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan):
        t_7 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        for l_2_node in environment.getattr(l_1_plan, 'norms'):
            _loop_vars = {}
            pass
            if (environment.getattr(l_2_node, 'kind') == 'batchnorm'):
                pass
                t_7.extend((
                    '    launch_norm_',
                    str(environment.getattr(l_2_node, 'number')),
                    ' = _launcher(batchnorm_forward, _blocks(',
                    str(environment.getattr(l_2_node, 'n')),
                    '))\n    launch_norm_back_',
                    str(environment.getattr(l_2_node, 'number')),
                    ' = _launcher(batchnorm_backward, _blocks(',
                    str(environment.getattr(l_2_node, 'n')),
                    '))\n',
                ))
            else:
                pass
                t_7.extend((
                    '    launch_norm_',
                    str(environment.getattr(l_2_node, 'number')),
                    ' = _launcher(layernorm_forward, _blocks(batch_size))\n    launch_norm_back_',
                    str(environment.getattr(l_2_node, 'number')),
                    ' = _launcher(layernorm_backward, _blocks(batch_size))\n    launch_norm_params_',
                    str(environment.getattr(l_2_node, 'number')),
                    ' = _launcher(norm_param_grads, _blocks(',
                    str(environment.getattr(l_2_node, 'n')),
                    '))\n',
                ))
        l_2_node = missing
        for l_2_width in t_4(environment, (t_1(context.eval_ctx, t_2(context, environment.getattr(l_1_plan, 'blocks'), attribute='n_out')) + [environment.getattr(l_1_plan, 'n_in')])):
            _loop_vars = {}
            pass
            t_7.extend((
                '    launch_sum_',
                str(l_2_width),
                ' = _launcher(add_rows, _blocks(batch_size * ',
                str(l_2_width),
                '))\n    launch_accumulate_',
                str(l_2_width),
                ' = _launcher(accumulate, _blocks(batch_size * ',
                str(l_2_width),
                '))\n',
            ))
        l_2_width = missing
        return concat(t_7)
    context.exported_vars.add('launchers')
    context.vars['launchers'] = l_0_launchers = Macro(environment, macro, 'launchers', ('plan',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_layer, l_1_cublas, l_1_pad):
        t_8 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_layer is missing:
            l_1_layer = undefined("parameter 'layer' was not provided", name='layer')
        if l_1_cublas is missing:
            l_1_cublas = undefined("parameter 'cublas' was not provided", name='cublas')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        t_8.extend((
            str(l_1_pad),
            'matmul(',
            str(environment.getattr(l_1_layer, 'input')),
            ', ',
            str(environment.getattr(l_1_layer, 'W')),
            ', ',
            str(environment.getattr(l_1_layer, 'z_buffer')),
            ', nb, ',
            str(environment.getattr(l_1_layer, 'n_out')),
            ', ',
            str(environment.getattr(l_1_layer, 'n_in')),
            ', False, False',
            str((', views' if l_1_cublas else '')),
            ')\n',
            str(l_1_pad),
            'launch_forward_',
            str(environment.getattr(l_1_layer, 'index')),
            '(',
            str(environment.getattr(l_1_layer, 'z_buffer')),
            ', ',
            str(environment.getattr(l_1_layer, 'b')),
            ', A',
            str(environment.getattr(l_1_layer, 'index')),
            ', nb',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr(l_1_layer, 'act'), 'hyper'))),
            ')\n',
        ))
        if environment.getattr(l_1_layer, 'has_dropout'):
            pass
            t_8.extend((
                str(l_1_pad),
                'if mode == TRAIN:\n',
                str(l_1_pad),
                '    launch_dropout_',
                str(environment.getattr(l_1_layer, 'index')),
                '(A',
                str(environment.getattr(l_1_layer, 'index')),
                ', AD',
                str(environment.getattr(l_1_layer, 'index')),
                ', M',
                str(environment.getattr(l_1_layer, 'index')),
                ', nb, 1.0 - p_drop',
                str(environment.getattr(l_1_layer, 'index')),
                ', rng)\n',
                str(l_1_pad),
                'else:\n',
                str(l_1_pad),
                '    AD',
                str(environment.getattr(l_1_layer, 'index')),
                '[:nb].copy_to_device(A',
                str(environment.getattr(l_1_layer, 'index')),
                '[:nb])\n',
            ))
        return concat(t_8)
    context.exported_vars.add('dense_forward')
    context.vars['dense_forward'] = l_0_dense_forward = Macro(environment, macro, 'dense_forward', ('plan', 'layer', 'cublas', 'pad'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_node, l_1_cublas, l_1_pad):
        t_9 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_node is missing:
            l_1_node = undefined("parameter 'node' was not provided", name='node')
        if l_1_cublas is missing:
            l_1_cublas = undefined("parameter 'cublas' was not provided", name='cublas')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        if (t_5(environment.getattr(l_1_node, 'kind')) and (environment.getattr(l_1_node, 'kind') == 'batchnorm')):
            pass
            t_9.extend((
                str(l_1_pad),
                'launch_norm_',
                str(environment.getattr(l_1_node, 'number')),
                '(',
                str(environment.getattr(l_1_node, 'input')),
                ', nb, ',
                str(environment.getattr(l_1_node, 'gamma')),
                ', ',
                str(environment.getattr(l_1_node, 'beta')),
                ', ',
                str(environment.getattr(l_1_node, 'output')),
                ', XH',
                str(environment.getattr(l_1_node, 'number')),
                ', MU',
                str(environment.getattr(l_1_node, 'number')),
                ', IS',
                str(environment.getattr(l_1_node, 'number')),
                ', RM',
                str(environment.getattr(l_1_node, 'number')),
                ', RV',
                str(environment.getattr(l_1_node, 'number')),
                ', mode == TRAIN or mode == GRADIENTS, mode == TRAIN, ',
                str(environment.getattr(l_1_node, 'momentum')),
                ', ',
                str(environment.getattr(l_1_node, 'eps')),
                ')\n',
            ))
        elif t_5(environment.getattr(l_1_node, 'kind')):
            pass
            t_9.extend((
                str(l_1_pad),
                'launch_norm_',
                str(environment.getattr(l_1_node, 'number')),
                '(',
                str(environment.getattr(l_1_node, 'input')),
                ', nb, ',
                str(environment.getattr(l_1_node, 'gamma')),
                ', ',
                str(environment.getattr(l_1_node, 'beta')),
                ', ',
                str(environment.getattr(l_1_node, 'output')),
                ', XH',
                str(environment.getattr(l_1_node, 'number')),
                ', IS',
                str(environment.getattr(l_1_node, 'number')),
                ', ',
                str(environment.getattr(l_1_node, 'eps')),
                ')\n',
            ))
        elif t_5(environment.getattr(l_1_node, 'skip')):
            pass
            t_9.extend((
                str(l_1_pad),
                'launch_sum_',
                str(environment.getattr(l_1_node, 'n')),
                '(',
                str(environment.getattr(l_1_node, 'skip')),
                ', ',
                str(environment.getattr(l_1_node, 'body')),
                ', ',
                str(environment.getattr(l_1_node, 'output')),
                ', nb)\n',
            ))
        else:
            pass
            t_9.extend((
                str(context.call((undefined(name='dense_forward') if l_0_dense_forward is missing else l_0_dense_forward), l_1_plan, l_1_node, l_1_cublas, l_1_pad)),
                '\n',
            ))
        return concat(t_9)
    context.exported_vars.add('forward_node')
    context.vars['forward_node'] = l_0_forward_node = Macro(environment, macro, 'forward_node', ('plan', 'node', 'cublas', 'pad'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_step, l_1_cublas, l_1_pad):
        t_10 = []
        l_1_below = resolve('below')
        l_1_node = l_1_out = l_1_views = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_step is missing:
            l_1_step = undefined("parameter 'step' was not provided", name='step')
        if l_1_cublas is missing:
            l_1_cublas = undefined("parameter 'cublas' was not provided", name='cublas')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        l_1_node = environment.getattr(l_1_step, 'node')
        l_1_out = (environment.getattr(l_1_step, 'scratch') or environment.getattr(l_1_step, 'target'))
        l_1_views = (', views' if l_1_cublas else '')
        if (environment.getattr(l_1_step, 'kind') == 'slope'):
            pass
            t_10.extend((
                str(l_1_pad),
                'D',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                '[:nb].copy_to_device(',
                str(environment.getattr(l_1_step, 'source')),
                '[:nb])\n',
                str(l_1_pad),
                'launch_slope_',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                '(D',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                ', ',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'slope_source')),
                ', nb',
                str(((', M%d' % environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')) if environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'has_dropout') else '')),
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'act'), 'hyper'))),
                ')\n',
            ))
        elif (environment.getattr(l_1_step, 'kind') == 'dense'):
            pass
            t_10.extend((
                str(l_1_pad),
                'matmul(',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'input')),
                ', D',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                ', d',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'W')),
                ', ',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'n_in')),
                ', ',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'n_out')),
                ', nb, True, False',
                str((undefined(name='views') if l_1_views is missing else l_1_views)),
                ')\n',
                str(l_1_pad),
                'launch_column_sums_',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                '(D',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                ', d',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'b')),
                ', nb)\n',
            ))
            if environment.getattr(l_1_step, 'fused'):
                pass
                l_1_below = environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'below')
                t_10.extend((
                    str(l_1_pad),
                    'matmul(D',
                    str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                    ', ',
                    str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'W')),
                    ', D',
                    str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')),
                    ', nb, ',
                    str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'n_out')),
                    ', ',
                    str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'n_out')),
                    ', False, True',
                    str((undefined(name='views') if l_1_views is missing else l_1_views)),
                    ')\n',
                    str(l_1_pad),
                    'launch_slope_',
                    str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')),
                    '(D',
                    str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')),
                    ', ',
                    str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'slope_source')),
                    ', nb',
                    str(((', M%d' % environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')) if environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'has_dropout') else '')),
                    str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'act'), 'hyper'))),
                    ')\n',
                ))
            elif (undefined(name='out') if l_1_out is missing else l_1_out):
                pass
                t_10.extend((
                    str(l_1_pad),
                    'matmul(D',
                    str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                    ', ',
                    str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'W')),
                    ', ',
                    str((undefined(name='out') if l_1_out is missing else l_1_out)),
                    ', nb, ',
                    str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'n_in')),
                    ', ',
                    str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'n_out')),
                    ', False, True',
                    str((undefined(name='views') if l_1_views is missing else l_1_views)),
                    ')\n',
                ))
        elif ((environment.getattr(l_1_step, 'kind') == 'norm') and (environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'kind') == 'batchnorm')):
            pass
            t_10.extend((
                str(l_1_pad),
                'launch_norm_back_',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'number')),
                '(',
                str(environment.getattr(l_1_step, 'source')),
                ', XH',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'number')),
                ', IS',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'number')),
                ', ',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'gamma')),
                ', nb, ',
                str((undefined(name='out') if l_1_out is missing else l_1_out)),
                ', d',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'gamma')),
                ', d',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'beta')),
                ')\n',
            ))
        elif (environment.getattr(l_1_step, 'kind') == 'norm'):
            pass
            t_10.extend((
                str(l_1_pad),
                'launch_norm_params_',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'number')),
                '(',
                str(environment.getattr(l_1_step, 'source')),
                ', XH',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'number')),
                ', nb, d',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'gamma')),
                ', d',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'beta')),
                ')\n',
                str(l_1_pad),
                'launch_norm_back_',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'number')),
                '(',
                str(environment.getattr(l_1_step, 'source')),
                ', XH',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'number')),
                ', IS',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'number')),
                ', ',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'gamma')),
                ', nb, ',
                str((undefined(name='out') if l_1_out is missing else l_1_out)),
                ')\n',
            ))
        if environment.getattr(l_1_step, 'slope'):
            pass
            l_1_below = environment.getattr(l_1_step, 'slope')
            t_10.extend((
                str(l_1_pad),
                'launch_slope_',
                str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')),
                '(D',
                str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')),
                ', ',
                str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'slope_source')),
                ', nb',
                str(((', M%d' % environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')) if environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'has_dropout') else '')),
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'act'), 'hyper'))),
                ')\n',
            ))
        if (environment.getattr(l_1_step, 'kind') == 'copy'):
            pass
            t_10.extend((
                str(l_1_pad),
                str(environment.getattr(l_1_step, 'target')),
                '[:nb].copy_to_device(',
                str(environment.getattr(l_1_step, 'source')),
                '[:nb])\n',
            ))
        elif (environment.getattr(l_1_step, 'kind') == 'add'):
            pass
            t_10.extend((
                str(l_1_pad),
                'launch_accumulate_',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'n')),
                '(',
                str(environment.getattr(l_1_step, 'target')),
                ', ',
                str(environment.getattr(l_1_step, 'source')),
                ', nb)\n',
            ))
        if environment.getattr(l_1_step, 'scratch'):
            pass
            t_10.extend((
                str(l_1_pad),
                'launch_accumulate_',
                str((environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'n_in') if (environment.getattr(l_1_step, 'kind') == 'dense') else environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'n'))),
                '(',
                str(environment.getattr(l_1_step, 'target')),
                ', ',
                str(environment.getattr(l_1_step, 'scratch')),
                ', nb)\n',
            ))
        return concat(t_10)
    context.exported_vars.add('backward_step')
    context.vars['backward_step'] = l_0_backward_step = Macro(environment, macro, 'backward_step', ('plan', 'step', 'cublas', 'pad'), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '6=42&8=44&9=50&10=51&22=55&26=57&53=59&54=61&64=64&75=68&79=70&99=72&100=74&116=76&117=78&149=87&150=92&151=95&152=99&153=103&155=112&156=114&157=116&160=122&161=127&162=131&167=140&168=152&169=166&170=179&171=182&172=184&173=196&174=198&178=209&179=220&180=223&181=250&182=253&183=272&184=275&186=289&190=296&191=309&192=310&193=311&194=312&195=315&196=321&197=333&198=336&199=350&200=359&201=361&202=363&203=377&204=389&205=392&207=407&208=410&209=429&210=432&211=444&213=459&215=461&216=463&218=475&219=478&220=484&221=487&223=496&224=499'