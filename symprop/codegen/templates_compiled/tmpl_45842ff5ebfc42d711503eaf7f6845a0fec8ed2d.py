from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'fused_cuda.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_m = l_0_update_param = l_0_fused_epoch = l_0_reduce_partial = l_0_loss_row = missing
    try:
        t_1 = environment.filters['join']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'join' found.")
    try:
        t_2 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_3 = environment.filters['reverse']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'reverse' found.")
    pass
    l_0_m = context.vars['m'] = environment.get_template('macros.j2', 'fused_cuda.j2')._get_default_module(context)
    context.exported_vars.discard('m')
    def macro(l_1_plan, l_1_param, l_1_grad, l_1_shape, l_1_indent):
        t_4 = []
        l_1_at = resolve('at')
        l_1_pad = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_param is missing:
            l_1_param = undefined("parameter 'param' was not provided", name='param')
        if l_1_grad is missing:
            l_1_grad = undefined("parameter 'grad' was not provided", name='grad')
        if l_1_shape is missing:
            l_1_shape = undefined("parameter 'shape' was not provided", name='shape')
        if l_1_indent is missing:
            l_1_indent = undefined("parameter 'indent' was not provided", name='indent')
        pass
        l_1_pad = (' ' * l_1_indent)
        t_4.extend((
            str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
            'for idx in range(t, ',
            str(t_1(context.eval_ctx, l_1_shape, ' * ')),
            ', THREADS):\n',
        ))
        if (t_2(l_1_shape) == 2):
            pass
            t_4.extend((
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    k = idx // ',
                str(environment.getitem(l_1_shape, 1)),
                '\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    j = idx - k * ',
                str(environment.getitem(l_1_shape, 1)),
                '\n',
            ))
            l_1_at = 'k, j'
        else:
            pass
            l_1_at = 'idx'
        t_4.extend((
            str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
            '    w_new',
        ))
        for l_2_s in environment.getattr(environment.getattr(l_1_plan, 'update'), 'state'):
            _loop_vars = {}
            pass
            t_4.extend((
                ', ',
                str(l_2_s),
                '_new',
            ))
        l_2_s = missing
        t_4.extend((
            str((',' if (not environment.getattr(environment.getattr(l_1_plan, 'update'), 'state')) else cond_expr_undefined("the inline if-expression on line 17 in 'fused_cuda.j2' evaluated to false and no else section was defined."))),
            ' = _stepped(',
            str(l_1_param),
            '[',
            str((undefined(name='at') if l_1_at is missing else l_1_at)),
            '], ',
            str(l_1_grad),
            '[',
            str((undefined(name='at') if l_1_at is missing else l_1_at)),
            ']',
        ))
        for l_2_s in environment.getattr(environment.getattr(l_1_plan, 'update'), 'state'):
            _loop_vars = {}
            pass
            t_4.extend((
                ', ',
                str(l_2_s),
                '_',
                str(l_1_param[1:]),
                '[',
                str((undefined(name='at') if l_1_at is missing else l_1_at)),
                ']',
            ))
        l_2_s = missing
        t_4.append(
            ', step, scale',
        )
        for l_2_c in environment.getattr(environment.getattr(l_1_plan, 'update'), 'invariant'):
            _loop_vars = {}
            pass
            t_4.extend((
                ', ',
                str(environment.getitem(l_2_c, 0)),
            ))
        l_2_c = missing
        t_4.extend((
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr(l_1_plan, 'update'), 'hyper'))),
            ')\n',
            str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
            '    ',
            str(l_1_param),
            '[',
            str((undefined(name='at') if l_1_at is missing else l_1_at)),
            '] = w_new\n',
        ))
        for l_2_s in environment.getattr(environment.getattr(l_1_plan, 'update'), 'state'):
            _loop_vars = {}
            pass
            t_4.extend((
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    ',
                str(l_2_s),
                '_',
                str(l_1_param[1:]),
                '[',
                str((undefined(name='at') if l_1_at is missing else l_1_at)),
                '] = ',
                str(l_2_s),
                '_new\n',
            ))
        l_2_s = missing
        t_4.extend((
            str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
            '    nonfinite += ',
            str(l_1_param),
            '[',
            str((undefined(name='at') if l_1_at is missing else l_1_at)),
            '] * ',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
        ))
        for l_2_s in environment.getattr(environment.getattr(l_1_plan, 'update'), 'state'):
            _loop_vars = {}
            pass
            t_4.extend((
                ' + ',
                str(l_2_s),
                '_',
                str(l_1_param[1:]),
                '[',
                str((undefined(name='at') if l_1_at is missing else l_1_at)),
                '] * ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0, _loop_vars=_loop_vars)),
            ))
        l_2_s = missing
        return concat(t_4)
    context.exported_vars.add('update_param')
    context.vars['update_param'] = l_0_update_param = Macro(environment, macro, 'update_param', ('plan', 'param', 'grad', 'shape', 'indent'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan):
        t_5 = []
        l_1_F = l_1_L = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        l_1_F = environment.getattr(l_1_plan, 'float_type')
        l_1_L = environment.getattr(environment.getitem(environment.getattr(l_1_plan, 'layers'), -1), 'index')
        t_5.extend((
            '@cuda.jit\ndef epoch_fused(X, Y, perm, n, batch_size, ',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'args'), environment.getattr(l_1_plan, 'params'))),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(l_1_plan, 'states'))),
            ', batch_losses, status, out, keep, step, clip_norm',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(l_1_plan, 'model_hyper'))),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr(l_1_plan, 'update'), 'hyper'))),
            '):\n    """One block, one epoch: every batch of perm through forward, loss, backward and update,\n    CHUNK rows at a time; weights live in shared memory until the epoch ends. status[0]\n    becomes bi + 1 at the first batch whose loss is not finite (no update from it on),\n    status[1] bi + 1 where an update made a parameter or state value non-finite."""\n    t = cuda.threadIdx.x\n    XB = cuda.shared.array((CHUNK, ',
            str(environment.getattr(l_1_plan, 'n_in')),
            '), dtype=',
            str((undefined(name='F') if l_1_F is missing else l_1_F)),
            ')\n    YB = cuda.shared.array((CHUNK, ',
            str(environment.getattr(l_1_plan, 'n_out')),
            '), dtype=',
            str((undefined(name='F') if l_1_F is missing else l_1_F)),
            ')\n',
        ))
        for l_2_layer in environment.getattr(l_1_plan, 'layers'):
            _loop_vars = {}
            pass
            t_5.extend((
                '    sW',
                str(environment.getattr(l_2_layer, 'index')),
                ' = cuda.shared.array((',
                str(environment.getattr(l_2_layer, 'n_in')),
                ', ',
                str(environment.getattr(l_2_layer, 'n_out')),
                '), dtype=',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                ')\n    sb',
                str(environment.getattr(l_2_layer, 'index')),
                ' = cuda.shared.array(',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', dtype=',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                ')\n    gW',
                str(environment.getattr(l_2_layer, 'index')),
                ' = cuda.shared.array((',
                str(environment.getattr(l_2_layer, 'n_in')),
                ', ',
                str(environment.getattr(l_2_layer, 'n_out')),
                '), dtype=',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                ')\n    gb',
                str(environment.getattr(l_2_layer, 'index')),
                ' = cuda.shared.array(',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', dtype=',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                ')\n    A',
                str(environment.getattr(l_2_layer, 'index')),
                ' = cuda.shared.array((CHUNK, ',
                str(environment.getattr(l_2_layer, 'n_out')),
                '), dtype=',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                ')\n',
            ))
            if environment.getattr(l_2_layer, 'keep_z'):
                pass
                t_5.extend((
                    '    Z',
                    str(environment.getattr(l_2_layer, 'index')),
                    ' = cuda.shared.array((CHUNK, ',
                    str(environment.getattr(l_2_layer, 'n_out')),
                    '), dtype=',
                    str((undefined(name='F') if l_1_F is missing else l_1_F)),
                    ')\n',
                ))
            t_5.extend((
                '    D',
                str(environment.getattr(l_2_layer, 'index')),
                ' = cuda.shared.array((CHUNK, ',
                str(environment.getattr(l_2_layer, 'n_out')),
                '), dtype=',
                str((undefined(name='F') if l_1_F is missing else l_1_F)),
                ')\n',
            ))
        l_2_layer = missing
        t_5.append(
            '    partial = cuda.shared.array(THREADS, dtype=np.float64)\n    # the batch loss, the clipping scale, whether an update made a value non-finite\n    verdict = cuda.shared.array(3, dtype=np.float64)\n',
        )
        for l_2_layer in environment.getattr(l_1_plan, 'layers'):
            _loop_vars = {}
            pass
            t_5.extend((
                '    for idx in range(t, ',
                str((environment.getattr(l_2_layer, 'n_in') * environment.getattr(l_2_layer, 'n_out'))),
                ', THREADS):\n        sW',
                str(environment.getattr(l_2_layer, 'index')),
                '[idx // ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', idx % ',
                str(environment.getattr(l_2_layer, 'n_out')),
                '] = W',
                str(environment.getattr(l_2_layer, 'index')),
                '[idx // ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', idx % ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ']\n    for j in range(t, ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', THREADS):\n        sb',
                str(environment.getattr(l_2_layer, 'index')),
                '[j] = b',
                str(environment.getattr(l_2_layer, 'index')),
                '[j]\n',
            ))
        l_2_layer = missing
        t_5.extend((
            '    cuda.syncthreads()\n    batches = (n + batch_size - 1) // batch_size\n    for bi in range(batches):\n        start = bi * batch_size\n        nb = min(batch_size, n - start)\n        dscale = ',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 1)),
            ' / (nb * ',
            str(environment.getattr(l_1_plan, 'units_scale')),
            ')\n',
        ))
        for l_2_layer in environment.getattr(l_1_plan, 'layers'):
            _loop_vars = {}
            pass
            t_5.extend((
                '        for idx in range(t, ',
                str((environment.getattr(l_2_layer, 'n_in') * environment.getattr(l_2_layer, 'n_out'))),
                ', THREADS):\n            gW',
                str(environment.getattr(l_2_layer, 'index')),
                '[idx // ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', idx % ',
                str(environment.getattr(l_2_layer, 'n_out')),
                '] = ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0, _loop_vars=_loop_vars)),
                '\n        for j in range(t, ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', THREADS):\n            gb',
                str(environment.getattr(l_2_layer, 'index')),
                '[j] = ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0, _loop_vars=_loop_vars)),
                '\n',
            ))
        l_2_layer = missing
        t_5.extend((
            '        my_loss = 0.0\n        for c0 in range(0, nb, CHUNK):\n            rows = min(CHUNK, nb - c0)\n            for idx in range(t, rows * ',
            str(environment.getattr(l_1_plan, 'n_in')),
            ', THREADS):\n                r = idx // ',
            str(environment.getattr(l_1_plan, 'n_in')),
            '\n                XB[r, idx - r * ',
            str(environment.getattr(l_1_plan, 'n_in')),
            '] = X[perm[start + c0 + r], idx - r * ',
            str(environment.getattr(l_1_plan, 'n_in')),
            ']\n            for idx in range(t, rows * ',
            str(environment.getattr(l_1_plan, 'n_out')),
            ', THREADS):\n                r = idx // ',
            str(environment.getattr(l_1_plan, 'n_out')),
            '\n                YB[r, idx - r * ',
            str(environment.getattr(l_1_plan, 'n_out')),
            '] = Y[perm[start + c0 + r], idx - r * ',
            str(environment.getattr(l_1_plan, 'n_out')),
            ']\n            cuda.syncthreads()\n',
        ))
        for l_2_layer in environment.getattr(l_1_plan, 'layers'):
            l_2_inp = l_2_zb = missing
            _loop_vars = {}
            pass
            l_2_inp = environment.getattr(l_2_layer, 'input')
            _loop_vars['inp'] = l_2_inp
            l_2_zb = (('Z%d' % environment.getattr(l_2_layer, 'index')) if environment.getattr(l_2_layer, 'keep_z') else ('A%d' % environment.getattr(l_2_layer, 'index')))
            _loop_vars['zb'] = l_2_zb
            t_5.extend((
                '            # layer ',
                str(environment.getattr(l_2_layer, 'index')),
                ': ',
                str(environment.getattr(environment.getattr(l_2_layer, 'act'), 'label')),
                '\n            for idx in range(t, rows * ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', THREADS):\n                r = idx // ',
                str(environment.getattr(l_2_layer, 'n_out')),
                '\n                j = idx - r * ',
                str(environment.getattr(l_2_layer, 'n_out')),
                '\n                z = sb',
                str(environment.getattr(l_2_layer, 'index')),
                '[j]\n                for k in range(',
                str(environment.getattr(l_2_layer, 'n_in')),
                '):\n                    z += ',
                str((undefined(name='inp') if l_2_inp is missing else l_2_inp)),
                '[r, k] * sW',
                str(environment.getattr(l_2_layer, 'index')),
                '[k, j]\n',
            ))
            if environment.getattr(environment.getattr(l_2_layer, 'act'), 'is_softmax'):
                pass
                t_5.extend((
                    '                ',
                    str((undefined(name='zb') if l_2_zb is missing else l_2_zb)),
                    '[r, j] = z\n',
                ))
            else:
                pass
                if environment.getattr(l_2_layer, 'keep_z'):
                    pass
                    t_5.extend((
                        '                Z',
                        str(environment.getattr(l_2_layer, 'index')),
                        '[r, j] = z\n',
                    ))
                t_5.extend((
                    str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr(environment.getattr(l_2_layer, 'act'), 'forward'), 16, _loop_vars=_loop_vars)),
                    '\n                A',
                    str(environment.getattr(l_2_layer, 'index')),
                    '[r, j] = a\n',
                ))
            t_5.append(
                '            cuda.syncthreads()\n',
            )
            if environment.getattr(environment.getattr(l_2_layer, 'act'), 'is_softmax'):
                pass
                t_5.extend((
                    '            for r in range(t, rows, THREADS):\n                top = Z',
                    str(environment.getattr(l_2_layer, 'index')),
                    '[r, 0]\n                for j in range(1, ',
                    str(environment.getattr(l_2_layer, 'n_out')),
                    '):\n                    zj = Z',
                    str(environment.getattr(l_2_layer, 'index')),
                    '[r, j]\n                    top = zj if zj > top else top\n                norm = 0.0\n                for j in range(',
                    str(environment.getattr(l_2_layer, 'n_out')),
                    '):\n                    e = math.exp(Z',
                    str(environment.getattr(l_2_layer, 'index')),
                    '[r, j] - top)\n                    A',
                    str(environment.getattr(l_2_layer, 'index')),
                    '[r, j] = e\n                    norm += e\n                for j in range(',
                    str(environment.getattr(l_2_layer, 'n_out')),
                    '):\n                    A',
                    str(environment.getattr(l_2_layer, 'index')),
                    '[r, j] /= norm\n            cuda.syncthreads()\n',
                ))
        l_2_layer = l_2_inp = l_2_zb = missing
        t_5.extend((
            '            # loss and output delta, one thread per row\n            for r in range(t, rows, THREADS):\n                total = 0.0\n',
            str(context.call((undefined(name='loss_row') if l_0_loss_row is missing else l_0_loss_row), l_1_plan, (undefined(name='L') if l_1_L is missing else l_1_L), 16)),
            "\n                my_loss += total\n                if keep:  # the output as the batch saw it (train_epoch's outputs)\n                    for j in range(",
            str(environment.getattr(l_1_plan, 'n_out')),
            '):\n                        out[perm[start + c0 + r], j] = A',
            str((undefined(name='L') if l_1_L is missing else l_1_L)),
            '[r, j]\n            cuda.syncthreads()\n',
        ))
        for l_2_layer in t_3(environment.getattr(l_1_plan, 'layers')):
            l_2_below = resolve('below')
            l_2_inp = missing
            _loop_vars = {}
            pass
            l_2_inp = environment.getattr(l_2_layer, 'input')
            _loop_vars['inp'] = l_2_inp
            t_5.extend((
                '            # layer ',
                str(environment.getattr(l_2_layer, 'index')),
                ': gradient sums, then the delta of the layer below\n            for idx in range(t, ',
                str((environment.getattr(l_2_layer, 'n_in') * environment.getattr(l_2_layer, 'n_out'))),
                ', THREADS):\n                k = idx // ',
                str(environment.getattr(l_2_layer, 'n_out')),
                '\n                j = idx - k * ',
                str(environment.getattr(l_2_layer, 'n_out')),
                '\n                acc = ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0, _loop_vars=_loop_vars)),
                '\n                for r in range(rows):\n                    acc += ',
                str((undefined(name='inp') if l_2_inp is missing else l_2_inp)),
                '[r, k] * D',
                str(environment.getattr(l_2_layer, 'index')),
                '[r, j]\n                gW',
                str(environment.getattr(l_2_layer, 'index')),
                '[k, j] += acc\n            for j in range(t, ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', THREADS):\n                acc = ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0, _loop_vars=_loop_vars)),
                '\n                for r in range(rows):\n                    acc += D',
                str(environment.getattr(l_2_layer, 'index')),
                '[r, j]\n                gb',
                str(environment.getattr(l_2_layer, 'index')),
                '[j] += acc\n',
            ))
            if environment.getattr(l_2_layer, 'below'):
                pass
                l_2_below = environment.getattr(l_2_layer, 'below')
                _loop_vars['below'] = l_2_below
                t_5.extend((
                    '            for idx in range(t, rows * ',
                    str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'n_out')),
                    ', THREADS):\n                r = idx // ',
                    str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'n_out')),
                    '\n                k = idx - r * ',
                    str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'n_out')),
                    '\n                acc = ',
                    str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0, _loop_vars=_loop_vars)),
                    '\n                for j in range(',
                    str(environment.getattr(l_2_layer, 'n_out')),
                    '):\n                    acc += D',
                    str(environment.getattr(l_2_layer, 'index')),
                    '[r, j] * sW',
                    str(environment.getattr(l_2_layer, 'index')),
                    '[k, j]\n',
                ))
                if environment.getattr(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'act'), 'is_softmax'):
                    pass
                    t_5.extend((
                        '                D',
                        str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'index')),
                        '[r, k] = acc\n',
                    ))
                else:
                    pass
                    t_5.extend((
                        '                ',
                        str(environment.getattr(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'act'), 'backward_from')),
                        ' = ',
                        str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'slope_source')),
                        '[r, k]\n',
                        str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'act'), 'backward'), 16, _loop_vars=_loop_vars)),
                        '\n                D',
                        str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'index')),
                        '[r, k] = acc * slope\n',
                    ))
                t_5.append(
                    '            cuda.syncthreads()\n',
                )
                if environment.getattr(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'act'), 'is_softmax'):
                    pass
                    t_5.extend((
                        '            for r in range(t, rows, THREADS):\n                dot = 0.0\n                for k in range(',
                        str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'n_out')),
                        '):\n                    dot += D',
                        str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'index')),
                        '[r, k] * A',
                        str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'index')),
                        '[r, k]\n                for k in range(',
                        str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'n_out')),
                        '):\n                    D',
                        str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'index')),
                        '[r, k] = A',
                        str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'index')),
                        '[r, k] * (D',
                        str(environment.getattr((undefined(name='below') if l_2_below is missing else l_2_below), 'index')),
                        '[r, k] - dot)\n            cuda.syncthreads()\n',
                    ))
        l_2_layer = l_2_inp = l_2_below = missing
        t_5.extend((
            '            cuda.syncthreads()\n        # the batch loss (and the squared gradient norm, for clipping): block reductions\n        partial[t] = my_loss\n',
            str(context.call((undefined(name='reduce_partial') if l_0_reduce_partial is missing else l_0_reduce_partial), ('verdict[0] = partial[0] / %d' % environment.getattr(l_1_plan, 'units_scale')))),
            '\n        batch_loss = verdict[0]\n        if t == 0:\n            batch_losses[bi] = batch_loss / nb\n        if math.isnan(batch_loss) or math.isinf(batch_loss):\n            if t == 0:\n                status[0] = bi + 1\n            break\n        my_norm = 0.0\n',
        ))
        for l_2_layer in environment.getattr(l_1_plan, 'layers'):
            _loop_vars = {}
            pass
            t_5.extend((
                '        for idx in range(t, ',
                str((environment.getattr(l_2_layer, 'n_in') * environment.getattr(l_2_layer, 'n_out'))),
                ', THREADS):\n            v = gW',
                str(environment.getattr(l_2_layer, 'index')),
                '[idx // ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', idx % ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ']\n            my_norm += v * v\n        for j in range(t, ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', THREADS):\n            my_norm += gb',
                str(environment.getattr(l_2_layer, 'index')),
                '[j] * gb',
                str(environment.getattr(l_2_layer, 'index')),
                '[j]\n',
            ))
        l_2_layer = missing
        t_5.extend((
            '        partial[t] = my_norm\n',
            str(context.call((undefined(name='reduce_partial') if l_0_reduce_partial is missing else l_0_reduce_partial), 'verdict[1] = 1.0\n            norm = math.sqrt(partial[0])\n            if clip_norm > 0.0 and norm > clip_norm:\n                verdict[1] = clip_norm / (norm + 1e-6)')),
            '\n        scale = verdict[1]\n        step += 1\n        nonfinite = 0.0\n',
        ))
        for l_2_c in environment.getattr(environment.getattr(l_1_plan, 'update'), 'invariant'):
            _loop_vars = {}
            pass
            t_5.extend((
                '        ',
                str(environment.getitem(l_2_c, 0)),
                ' = ',
                str(environment.getitem(l_2_c, 1)),
                '\n',
            ))
        l_2_c = missing
        for l_2_layer in environment.getattr(l_1_plan, 'layers'):
            _loop_vars = {}
            pass
            t_5.extend((
                str(context.call((undefined(name='update_param') if l_0_update_param is missing else l_0_update_param), l_1_plan, ('sW%d' % environment.getattr(l_2_layer, 'index')), ('gW%d' % environment.getattr(l_2_layer, 'index')), [environment.getattr(l_2_layer, 'n_in'), environment.getattr(l_2_layer, 'n_out')], 8, _loop_vars=_loop_vars)),
                '\n',
                str(context.call((undefined(name='update_param') if l_0_update_param is missing else l_0_update_param), l_1_plan, ('sb%d' % environment.getattr(l_2_layer, 'index')), ('gb%d' % environment.getattr(l_2_layer, 'index')), [environment.getattr(l_2_layer, 'n_out')], 8, _loop_vars=_loop_vars)),
                '\n',
            ))
        l_2_layer = missing
        t_5.extend((
            '        partial[t] = nonfinite\n',
            str(context.call((undefined(name='reduce_partial') if l_0_reduce_partial is missing else l_0_reduce_partial), 'verdict[2] = partial[0]')),
            '\n        if verdict[2] != 0.0:\n            if t == 0:\n                status[1] = bi + 1\n            break\n',
        ))
        for l_2_layer in environment.getattr(l_1_plan, 'layers'):
            _loop_vars = {}
            pass
            t_5.extend((
                '    for idx in range(t, ',
                str((environment.getattr(l_2_layer, 'n_in') * environment.getattr(l_2_layer, 'n_out'))),
                ', THREADS):\n        W',
                str(environment.getattr(l_2_layer, 'index')),
                '[idx // ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', idx % ',
                str(environment.getattr(l_2_layer, 'n_out')),
                '] = sW',
                str(environment.getattr(l_2_layer, 'index')),
                '[idx // ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', idx % ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ']\n    for j in range(t, ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', THREADS):\n        b',
                str(environment.getattr(l_2_layer, 'index')),
                '[j] = sb',
                str(environment.getattr(l_2_layer, 'index')),
                '[j]\n',
            ))
        l_2_layer = missing
        return concat(t_5)
    context.exported_vars.add('fused_epoch')
    context.vars['fused_epoch'] = l_0_fused_epoch = Macro(environment, macro, 'fused_epoch', ('plan',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_finish):
        t_6 = []
        if l_1_finish is missing:
            l_1_finish = undefined("parameter 'finish' was not provided", name='finish')
        pass
        t_6.extend((
            '        cuda.syncthreads()\n        half = THREADS // 2\n        while half > 0:\n            if t < half:\n                partial[t] += partial[t + half]\n            cuda.syncthreads()\n            half //= 2\n        if t == 0:\n            ',
            str(l_1_finish),
            '\n        cuda.syncthreads()',
        ))
        return concat(t_6)
    context.exported_vars.add('reduce_partial')
    context.vars['reduce_partial'] = l_0_reduce_partial = Macro(environment, macro, 'reduce_partial', ('finish',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_L, l_1_indent):
        t_7 = []
        l_1_pad = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_L is missing:
            l_1_L = undefined("parameter 'L' was not provided", name='L')
        if l_1_indent is missing:
            l_1_indent = undefined("parameter 'indent' was not provided", name='indent')
        pass
        l_1_pad = (' ' * l_1_indent)
        if (environment.getattr(environment.getattr(l_1_plan, 'loss'), 'mode') == 'softmax_ce'):
            pass
            t_7.extend((
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                'top = Z',
                str(l_1_L),
                '[r, 0]\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                'for j in range(1, ',
                str(environment.getattr(l_1_plan, 'n_out')),
                '):\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    zj = Z',
                str(l_1_L),
                '[r, j]\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    top = zj if zj > top else top\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                'rest = 0.0\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                'ties = -1\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                'for j in range(',
                str(environment.getattr(l_1_plan, 'n_out')),
                '):\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    zj = Z',
                str(l_1_L),
                '[r, j]\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    if zj < top:\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '        rest += math.exp(zj - top)\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    else:  # top itself, a tie or a NaN (whose loss is NaN all the same)\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '        ties += 1\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                'tail = math.log1p(rest + ties)\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                'for j in range(',
                str(environment.getattr(l_1_plan, 'n_out')),
                '):\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    y = YB[r, j]\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    total += y * (tail - (Z',
                str(l_1_L),
                '[r, j] - top))\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    D',
                str(l_1_L),
                '[r, j] = (A',
                str(l_1_L),
                '[r, j] - y) * dscale\n',
            ))
        elif (environment.getattr(environment.getattr(l_1_plan, 'loss'), 'mode') == 'softmax_vjp'):
            pass
            t_7.extend((
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                'dot = 0.0\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                'for j in range(',
                str(environment.getattr(l_1_plan, 'n_out')),
                '):\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    yhat = A',
                str(l_1_L),
                '[r, j]\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    y = YB[r, j]\n',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr(environment.getattr(l_1_plan, 'loss'), 'value'), (l_1_indent + 4))),
                '\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    total += value\n',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr(environment.getattr(l_1_plan, 'loss'), 'delta'), (l_1_indent + 4))),
                '\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    D',
                str(l_1_L),
                '[r, j] = g\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    dot += g * yhat\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                'for j in range(',
                str(environment.getattr(l_1_plan, 'n_out')),
                '):\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    D',
                str(l_1_L),
                '[r, j] = A',
                str(l_1_L),
                '[r, j] * (D',
                str(l_1_L),
                '[r, j] - dot) * dscale\n',
            ))
        else:
            pass
            t_7.extend((
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                'for j in range(',
                str(environment.getattr(l_1_plan, 'n_out')),
                '):\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    yhat = A',
                str(l_1_L),
                '[r, j]\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    y = YB[r, j]\n',
            ))
            if ('z' in environment.getattr(environment.getattr(l_1_plan, 'loss'), 'reads')):
                pass
                t_7.extend((
                    str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                    '    z = Z',
                    str(l_1_L),
                    '[r, j]\n',
                ))
            t_7.extend((
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr(environment.getattr(l_1_plan, 'loss'), 'value'), (l_1_indent + 4))),
                '\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    total += value\n',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr(environment.getattr(l_1_plan, 'loss'), 'delta'), (l_1_indent + 4))),
                '\n',
                str((undefined(name='pad') if l_1_pad is missing else l_1_pad)),
                '    D',
                str(l_1_L),
                '[r, j] = delta * dscale\n',
            ))
        return concat(t_7)
    context.exported_vars.add('loss_row')
    context.vars['loss_row'] = l_0_loss_row = Macro(environment, macro, 'loss_row', ('plan', 'L', 'indent'), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '5=30&7=32&8=47&9=49&10=54&11=57&12=61&13=66&15=69&17=71&18=122&19=129&20=133&22=146&26=172&27=178&28=179&30=182&36=188&37=192&38=197&39=202&40=210&41=216&42=224&43=230&44=237&45=241&47=250&52=261&53=266&54=268&55=280&56=282&63=290&64=295&65=300&66=302&67=310&68=312&73=320&74=322&75=324&76=328&77=330&78=332&80=337&81=341&82=343&83=347&84=351&85=353&86=355&87=357&88=359&89=361&90=366&91=370&93=375&94=379&96=383&97=385&100=391&102=395&103=397&104=399&107=401&108=403&109=405&111=407&112=409&119=415&122=417&123=419&125=422&126=427&127=431&128=433&129=435&130=437&131=439&133=441&134=445&135=447&136=449&138=451&139=453&140=456&141=458&142=462&143=464&144=466&145=468&146=470&147=472&148=477&149=481&151=488&152=492&153=494&156=500&159=504&160=506&161=510&162=512&170=522&179=525&180=530&181=532&183=538&184=540&187=548&191=551&192=556&194=562&195=566&196=568&199=574&204=577&205=582&206=584&207=596&208=598&212=608&221=615&229=621&230=631&231=632&232=635&233=639&234=643&235=647&236=649&237=651&238=653&239=657&240=661&241=663&242=665&243=667&244=669&245=671&246=675&247=677&248=681&249=688&250=691&251=693&252=697&253=701&254=703&255=705&256=707&257=709&258=713&259=715&260=719&262=731&263=735&264=739&265=742&266=745&268=751&269=753&270=755&271=757'