from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'layers.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_m = l_0_matmul = l_0_flat_index = l_0_forward_kernel = l_0_delta_kernel = l_0_delta_add_kernel = l_0_grad_kernel = l_0_slope_kernel = missing
    pass
    l_0_m = context.vars['m'] = environment.get_template('macros.j2', 'layers.j2')._get_default_module(context)
    context.exported_vars.discard('m')
    def macro(l_1_plan, l_1_kernel, l_1_add_bias, l_1_Z):
        t_1 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        if l_1_add_bias is missing:
            l_1_add_bias = undefined("parameter 'add_bias' was not provided", name='add_bias')
        if l_1_Z is missing:
            l_1_Z = undefined("parameter 'Z' was not provided", name='Z')
        pass
        if (environment.getattr(l_1_kernel, 'variant') == 'blas'):
            pass
            if environment.getattr(l_1_plan, 'gemm'):
                pass
                t_1.extend((
                    '    ',
                    str(environment.getattr(l_1_plan, 'gemm')),
                    '(inp, W, ',
                    str(l_1_Z),
                    ', nb, W.shape[1], W.shape[0], False, False)\n',
                ))
            else:
                pass
                t_1.extend((
                    '    np.dot(inp[:nb], W, ',
                    str(l_1_Z),
                    '[:nb])\n',
                ))
            if l_1_add_bias:
                pass
                t_1.extend((
                    '    for r in range(nb):\n        for j in range(W.shape[1]):\n            ',
                    str(l_1_Z),
                    '[r, j] += b[j]\n',
                ))
        elif (environment.getattr(l_1_kernel, 'variant') == 'narrow'):
            pass
            t_1.extend((
                '    # few outputs: one dot product per output (vector-wide over the inputs); W is the flat\n    # view of the n_in x ',
                str(environment.getattr(l_1_kernel, 'width')),
                ' weights, so the loops know its row length\n    for r in range(nb):\n        for j in range(',
                str(environment.getattr(l_1_kernel, 'width')),
                '):\n            acc = b[j]\n            for k in range(inp.shape[1]):\n                acc += inp[r, k] * W[',
                str(context.call((undefined(name='flat_index') if l_0_flat_index is missing else l_0_flat_index), 'k', 'j', environment.getattr(l_1_kernel, 'width'))),
                ']\n            ',
                str(l_1_Z),
                '[r, j] = acc\n',
            ))
        else:
            pass
            t_1.extend((
                '    # many outputs: add each input times its row of W (vector-wide over the outputs)\n    for r in range(nb):\n        for j in range(W.shape[1]):\n            ',
                str(l_1_Z),
                '[r, j] = b[j]\n        for k in range(W.shape[0]):\n            x = inp[r, k]\n            for j in range(W.shape[1]):\n                ',
                str(l_1_Z),
                '[r, j] += x * W[k, j]\n',
            ))
        return concat(t_1)
    context.exported_vars.add('matmul')
    context.vars['matmul'] = l_0_matmul = Macro(environment, macro, 'matmul', ('plan', 'kernel', 'add_bias', 'Z'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_k, l_1_j, l_1_width):
        t_2 = []
        if l_1_k is missing:
            l_1_k = undefined("parameter 'k' was not provided", name='k')
        if l_1_j is missing:
            l_1_j = undefined("parameter 'j' was not provided", name='j')
        if l_1_width is missing:
            l_1_width = undefined("parameter 'width' was not provided", name='width')
        pass
        t_2.append(
            str((l_1_k if (l_1_width == 1) else str_join((l_1_k, ' * ', l_1_width, ' + ', l_1_j, )))),
        )
        return concat(t_2)
    context.exported_vars.add('flat_index')
    context.vars['flat_index'] = l_0_flat_index = Macro(environment, macro, 'flat_index', ('k', 'j', 'width'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_kernel):
        t_3 = []
        l_1_act = l_1_Z = l_1_cols = l_1_bias_later = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        pass
        l_1_act = environment.getattr(l_1_kernel, 'act')
        l_1_Z = ('Z' if environment.getattr(l_1_kernel, 'keep_z') else 'A')
        l_1_cols = (environment.getattr(l_1_kernel, 'width') or 'W.shape[1]')
        t_3.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef ',
            str(environment.getattr(l_1_kernel, 'name')),
            '(inp, nb, W, b, ',
            str(('Z, ' if environment.getattr(l_1_kernel, 'keep_z') else cond_expr_undefined("the inline if-expression on line 52 in 'layers.j2' evaluated to false and no else section was defined."))),
            'A',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'hyper'))),
            '):\n    """',
            str((undefined(name='Z') if l_1_Z is missing else l_1_Z)),
            ' = inp @ W + b (',
            str(environment.getattr(l_1_kernel, 'variant')),
            '), then A = ',
            str(environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'label')),
            '(',
            str((undefined(name='Z') if l_1_Z is missing else l_1_Z)),
            ')',
            str(('' if environment.getattr(l_1_kernel, 'keep_z') else ' in place')),
            str((', and Z = log(A)' if (environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'is_softmax') and environment.getattr(l_1_kernel, 'keep_z')) else cond_expr_undefined("the inline if-expression on line 53 in 'layers.j2' evaluated to false and no else section was defined."))),
            '."""\n',
        ))
        l_1_bias_later = ((environment.getattr(l_1_kernel, 'variant') == 'blas') and (not environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'is_softmax')))
        t_3.extend((
            str(context.call((undefined(name='matmul') if l_0_matmul is missing else l_0_matmul), l_1_plan, l_1_kernel, (not (undefined(name='bias_later') if l_1_bias_later is missing else l_1_bias_later)), (undefined(name='Z') if l_1_Z is missing else l_1_Z))),
            '\n',
        ))
        if environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'is_softmax'):
            pass
            t_3.extend((
                '    for r in range(nb):\n        top = ',
                str((undefined(name='Z') if l_1_Z is missing else l_1_Z)),
                '[r, 0]\n        for j in range(1, ',
                str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
                '):\n            zj = ',
                str((undefined(name='Z') if l_1_Z is missing else l_1_Z)),
                '[r, j]\n            top = zj if zj > top else top\n',
            ))
            if ((environment.getattr(l_1_plan, 'float_type') == 'float32') and (environment.getattr(l_1_kernel, 'variant') != 'narrow')):
                pass
                t_3.extend((
                    "        # float32 throughout, e^x from arithmetic alone: the loop vectorises (the C\n        # library's expf is a call per element; 1.5 -> 0.8 us for 32 rows of 10). Not for\n        # fewer outputs than a vector (narrow): little to gain, and its compile cost the\n        # iris network's cold start 0.2 s\n        norm = np.float32(0.0)\n        for j in range(",
                    str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
                    '):\n            e = _exp_neg32(',
                    str((undefined(name='Z') if l_1_Z is missing else l_1_Z)),
                    '[r, j] - top)\n',
                ))
            else:
                pass
                t_3.extend((
                    '        norm = 0.0\n        for j in range(',
                    str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
                    '):\n            e = math.exp(',
                    str((undefined(name='Z') if l_1_Z is missing else l_1_Z)),
                    '[r, j] - top)\n',
                ))
            t_3.append(
                '            A[r, j] = e\n            norm += e\n',
            )
            if environment.getattr(l_1_kernel, 'keep_z'):
                pass
                t_3.extend((
                    "        # Z becomes log(A) = z - logsumexp(z), what the cross-entropy reads (no exponentials\n        # of its own: K of them a row were a fifth of a small network's step); nothing else\n        # reads a softmax layer's Z. The shift in double: in float32 a confident row's\n        # log-probability lost digits as its logits grew (1e-4 off at logits near 3000);\n        # the log of norm itself may be float32's (a float32 sum: logf, cheaper than log)\n        shift = np.float64(top) + math.log(norm)\n        for j in range(",
                    str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
                    '):\n            A[r, j] /= norm\n            Z[r, j] -= shift\n',
                ))
            else:
                pass
                t_3.extend((
                    '        for j in range(',
                    str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
                    '):\n            A[r, j] /= norm\n',
                ))
        else:
            pass
            t_3.extend((
                '    for r in range(nb):\n        for j in range(',
                str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
                '):\n',
            ))
            if (undefined(name='bias_later') if l_1_bias_later is missing else l_1_bias_later):
                pass
                t_3.extend((
                    '            # the bias joins the activation pass: one sweep over ',
                    str((undefined(name='Z') if l_1_Z is missing else l_1_Z)),
                    ' after the product\n            z = ',
                    str((undefined(name='Z') if l_1_Z is missing else l_1_Z)),
                    '[r, j] + b[j]\n',
                ))
                if environment.getattr(l_1_kernel, 'keep_z'):
                    pass
                    t_3.append(
                        '            Z[r, j] = z\n',
                    )
            else:
                pass
                t_3.extend((
                    '            z = ',
                    str((undefined(name='Z') if l_1_Z is missing else l_1_Z)),
                    '[r, j]\n',
                ))
            t_3.extend((
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'forward'), 12)),
                '\n            A[r, j] = a\n',
            ))
        return concat(t_3)
    context.exported_vars.add('forward_kernel')
    context.vars['forward_kernel'] = l_0_forward_kernel = Macro(environment, macro, 'forward_kernel', ('plan', 'kernel'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_kernel):
        t_4 = []
        l_1_act = resolve('act')
        l_1_fused = resolve('fused')
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        pass
        if environment.getattr(l_1_kernel, 'add'):
            pass
            t_4.extend((
                str(context.call((undefined(name='delta_add_kernel') if l_0_delta_add_kernel is missing else l_0_delta_add_kernel), l_1_plan, l_1_kernel)),
                '\n',
            ))
        else:
            pass
            l_1_act = environment.getattr(l_1_kernel, 'act')
            l_1_fused = ((not environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'is_softmax')) and (environment.getattr(l_1_kernel, 'variant') != 'blas'))
            t_4.extend((
                '@njit(',
                str(environment.getattr(l_1_plan, 'jit')),
                ')\ndef ',
                str(environment.getattr(l_1_kernel, 'name')),
                '(D, W, S, OUT, nb',
                str((', M' if environment.getattr(l_1_kernel, 'dropout') else '')),
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'hyper'))),
                '):\n    """OUT = (D @ W^T)',
                str((' * M' if environment.getattr(l_1_kernel, 'dropout') else '')),
                ' then through ',
                str(environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'label')),
                "': the delta of the layer below.\n    S is what the derivative reads: ",
                str(('its output A' if (environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'is_softmax') or (environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward_from') == 'a')) else 'its pre-activation Z')),
                '.',
                str(('\n    W comes transposed (run() keeps W^T): the product is D @ W.' if environment.getattr(l_1_kernel, 'transposed') else cond_expr_undefined("the inline if-expression on line 119 in 'layers.j2' evaluated to false and no else section was defined."))),
                '"""\n',
            ))
            if environment.getattr(l_1_kernel, 'transposed'):
                pass
                t_4.extend((
                    '    ',
                    str(environment.getattr(l_1_plan, 'gemm')),
                    '(D, W, OUT, nb, W.shape[1], W.shape[0], False, False)\n',
                ))
            elif ((environment.getattr(l_1_kernel, 'variant') == 'blas') and environment.getattr(l_1_plan, 'gemm')):
                pass
                t_4.extend((
                    '    ',
                    str(environment.getattr(l_1_plan, 'gemm')),
                    '(D, W, OUT, nb, W.shape[0], W.shape[1], False, True)\n',
                ))
            elif (environment.getattr(l_1_kernel, 'variant') == 'blas'):
                pass
                t_4.append(
                    '    np.dot(D[:nb], W.T, OUT[:nb])\n',
                )
            else:
                pass
                if (environment.getattr(l_1_kernel, 'variant') == 'narrow'):
                    pass
                    t_4.extend((
                        "    # few outputs above: a dot product of D's row with row k of W (W flat, ",
                        str(environment.getattr(l_1_kernel, 'width')),
                        ' wide)\n',
                    ))
                else:
                    pass
                    t_4.append(
                        "    # many outputs above: a dot product of D's row with W's row (vector-wide over j)\n",
                    )
                t_4.extend((
                    '    for r in range(nb):\n        for k in range(OUT.shape[1]):\n            g = ',
                    str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
                    '\n',
                ))
                if (environment.getattr(l_1_kernel, 'variant') == 'narrow'):
                    pass
                    t_4.extend((
                        '            for j in range(',
                        str(environment.getattr(l_1_kernel, 'width')),
                        '):\n                g += D[r, j] * W[',
                        str(context.call((undefined(name='flat_index') if l_0_flat_index is missing else l_0_flat_index), 'k', 'j', environment.getattr(l_1_kernel, 'width'))),
                        ']\n',
                    ))
                else:
                    pass
                    t_4.append(
                        '            for j in range(W.shape[1]):\n                g += D[r, j] * W[k, j]\n',
                    )
                if (undefined(name='fused') if l_1_fused is missing else l_1_fused):
                    pass
                    t_4.extend((
                        '            # the derivative joins the same pass: OUT is written once\n            ',
                        str(environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward_from')),
                        ' = S[r, k]\n',
                        str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward'), 12)),
                        '\n            OUT[r, k] = g * slope',
                        str((' * M[r, k]' if environment.getattr(l_1_kernel, 'dropout') else '')),
                        '\n',
                    ))
                else:
                    pass
                    t_4.append(
                        '            OUT[r, k] = g\n',
                    )
            if (not (undefined(name='fused') if l_1_fused is missing else l_1_fused)):
                pass
                t_4.append(
                    '    for r in range(nb):\n',
                )
                if environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'is_softmax'):
                    pass
                    t_4.append(
                        '        dot = 0.0\n        for k in range(OUT.shape[1]):\n',
                    )
                    if environment.getattr(l_1_kernel, 'dropout'):
                        pass
                        t_4.append(
                            '            OUT[r, k] *= M[r, k]\n',
                        )
                    t_4.append(
                        '            dot += OUT[r, k] * S[r, k]\n        for k in range(OUT.shape[1]):\n            OUT[r, k] = S[r, k] * (OUT[r, k] - dot)\n',
                    )
                else:
                    pass
                    t_4.extend((
                        '        for k in range(OUT.shape[1]):\n            ',
                        str(environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward_from')),
                        ' = S[r, k]\n',
                        str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward'), 12)),
                        '\n            OUT[r, k] *= slope',
                        str((' * M[r, k]' if environment.getattr(l_1_kernel, 'dropout') else '')),
                        '\n',
                    ))
        return concat(t_4)
    context.exported_vars.add('delta_kernel')
    context.vars['delta_kernel'] = l_0_delta_kernel = Macro(environment, macro, 'delta_kernel', ('plan', 'kernel'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_kernel):
        t_5 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        pass
        t_5.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef ',
            str(environment.getattr(l_1_kernel, 'name')),
            '(D, W, OUT, nb):\n    """OUT += D @ W^T: this layer\'s share of the gradient of its input, which another\n    consumer of that input wrote first.',
            str(('\n    W comes transposed (run() keeps W^T): the product is D @ W.' if environment.getattr(l_1_kernel, 'transposed') else cond_expr_undefined("the inline if-expression on line 178 in 'layers.j2' evaluated to false and no else section was defined."))),
            '"""\n',
        ))
        if environment.getattr(l_1_kernel, 'transposed'):
            pass
            t_5.extend((
                '    ',
                str(environment.getattr(l_1_plan, 'gemm_add')),
                '(D, W, OUT, nb, W.shape[1], W.shape[0], False, False)\n',
            ))
        elif ((environment.getattr(l_1_kernel, 'variant') == 'blas') and environment.getattr(l_1_plan, 'gemm')):
            pass
            t_5.extend((
                '    ',
                str(environment.getattr(l_1_plan, 'gemm_add')),
                '(D, W, OUT, nb, W.shape[0], W.shape[1], False, True)\n',
            ))
        elif (environment.getattr(l_1_kernel, 'variant') == 'blas'):
            pass
            t_5.append(
                '    OUT[:nb] += np.dot(D[:nb], W.T)\n',
            )
        else:
            pass
            t_5.extend((
                '    for r in range(nb):\n        for k in range(OUT.shape[1]):\n            g = ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
                '\n',
            ))
            if (environment.getattr(l_1_kernel, 'variant') == 'narrow'):
                pass
                t_5.extend((
                    '            for j in range(',
                    str(environment.getattr(l_1_kernel, 'width')),
                    '):\n                g += D[r, j] * W[',
                    str(context.call((undefined(name='flat_index') if l_0_flat_index is missing else l_0_flat_index), 'k', 'j', environment.getattr(l_1_kernel, 'width'))),
                    ']\n',
                ))
            else:
                pass
                t_5.append(
                    '            for j in range(W.shape[1]):\n                g += D[r, j] * W[k, j]\n',
                )
            t_5.append(
                '            OUT[r, k] += g\n',
            )
        return concat(t_5)
    context.exported_vars.add('delta_add_kernel')
    context.vars['delta_add_kernel'] = l_0_delta_add_kernel = Macro(environment, macro, 'delta_add_kernel', ('plan', 'kernel'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_kernel):
        t_6 = []
        l_1_cols = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        pass
        t_6.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef ',
            str(environment.getattr(l_1_kernel, 'name')),
            '(inp, D, nb, dW, db):\n    """dW = inp^T D and db = column sums of D (',
            str(environment.getattr(l_1_kernel, 'variant')),
            str((', dW flat' if environment.getattr(l_1_kernel, 'width') else cond_expr_undefined("the inline if-expression on line 203 in 'layers.j2' evaluated to false and no else section was defined."))),
            ')."""\n',
        ))
        if ((environment.getattr(l_1_kernel, 'variant') == 'blas') and environment.getattr(l_1_plan, 'gemm')):
            pass
            t_6.extend((
                '    ',
                str(environment.getattr(l_1_plan, 'gemm')),
                '(inp, D, dW, dW.shape[0], dW.shape[1], nb, True, False)\n',
            ))
        elif (environment.getattr(l_1_kernel, 'variant') == 'blas'):
            pass
            t_6.append(
                '    np.dot(inp[:nb].T, D[:nb], dW)\n',
            )
        elif (environment.getattr(l_1_kernel, 'variant') == 'narrow'):
            pass
            t_6.extend((
                '    for i in range(dW.shape[0]):\n        dW[i] = ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
                '\n    for r in range(nb):\n        for j in range(',
                str(environment.getattr(l_1_kernel, 'width')),
                '):\n            d = D[r, j]\n            for k in range(inp.shape[1]):\n                dW[',
                str(context.call((undefined(name='flat_index') if l_0_flat_index is missing else l_0_flat_index), 'k', 'j', environment.getattr(l_1_kernel, 'width'))),
                '] += inp[r, k] * d\n',
            ))
        else:
            pass
            t_6.extend((
                '    for k in range(dW.shape[0]):\n        for j in range(dW.shape[1]):\n            dW[k, j] = ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
                '\n    for r in range(nb):\n        for k in range(dW.shape[0]):\n            x = inp[r, k]\n            for j in range(dW.shape[1]):\n                dW[k, j] += x * D[r, j]\n',
            ))
        l_1_cols = (environment.getattr(l_1_kernel, 'width') or 'db.shape[0]')
        t_6.extend((
            '    for j in range(',
            str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
            '):\n        db[j] = ',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
            '\n',
        ))
        if (environment.getattr(l_1_kernel, 'variant') == 'blas'):
            pass
            t_6.extend((
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'column_sums'), '    ', 'nb', (undefined(name='cols') if l_1_cols is missing else l_1_cols), 'j', ['db'], ['D[@, j]'])),
                '\n',
            ))
        else:
            pass
            t_6.extend((
                "    # one row a pass in the loops' kernels: their layers are small, and the blocked loop's\n    # extra code cost a cold start 0.1 s of compiling for each\n    for r in range(nb):\n        for j in range(",
                str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
                '):\n            db[j] += D[r, j]\n',
            ))
        return concat(t_6)
    context.exported_vars.add('grad_kernel')
    context.vars['grad_kernel'] = l_0_grad_kernel = Macro(environment, macro, 'grad_kernel', ('plan', 'kernel'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_kernel):
        t_7 = []
        l_1_act = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        pass
        l_1_act = environment.getattr(l_1_kernel, 'act')
        t_7.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef ',
            str(environment.getattr(l_1_kernel, 'name')),
            '(G, S, D, nb',
            str((', M' if environment.getattr(l_1_kernel, 'dropout') else '')),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'hyper'))),
            '):\n    """D = G',
            str((' * M' if environment.getattr(l_1_kernel, 'dropout') else '')),
            ' through ',
            str(environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'label')),
            "': S is ",
            str(('its output A' if (environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'is_softmax') or (environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward_from') == 'a')) else 'its pre-activation Z')),
            '."""\n    for r in range(nb):\n',
        ))
        if environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'is_softmax'):
            pass
            t_7.extend((
                '        dot = 0.0\n        for k in range(D.shape[1]):\n            g = G[r, k]',
                str((' * M[r, k]' if environment.getattr(l_1_kernel, 'dropout') else '')),
                '\n            D[r, k] = g\n            dot += g * S[r, k]\n        for k in range(D.shape[1]):\n            D[r, k] = S[r, k] * (D[r, k] - dot)\n',
            ))
        else:
            pass
            t_7.extend((
                '        for k in range(D.shape[1]):\n            ',
                str(environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward_from')),
                ' = S[r, k]\n',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward'), 12)),
                '\n            D[r, k] = G[r, k] * slope',
                str((' * M[r, k]' if environment.getattr(l_1_kernel, 'dropout') else '')),
                '\n',
            ))
        return concat(t_7)
    context.exported_vars.add('slope_kernel')
    context.vars['slope_kernel'] = l_0_slope_kernel = Macro(environment, macro, 'slope_kernel', ('plan', 'kernel'), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '6=12&8=14&9=25&10=27&11=31&13=40&15=43&18=47&20=50&22=54&24=56&27=58&28=60&33=67&37=69&43=75&44=85&47=91&48=99&49=100&50=101&51=104&52=106&53=112&54=124&55=126&56=129&60=133&61=135&62=137&64=140&70=144&71=146&74=153&75=155&79=161&86=165&90=172&95=179&96=182&97=186&98=188&99=191&103=200&105=204&110=211&111=220&112=223&114=228&115=229&116=232&117=234&118=239&119=243&120=248&121=252&122=255&123=259&124=262&127=269&128=273&134=283&135=286&136=290&137=292&142=300&144=304&145=306&146=308&151=316&153=321&156=326&164=338&165=340&166=342&174=348&175=357&176=359&178=361&179=364&180=368&181=371&182=375&183=378&188=387&189=390&190=394&191=396&200=411&201=421&202=423&203=425&204=429&205=433&206=436&208=441&210=445&212=447&215=449&219=456&226=459&227=462&228=464&229=467&230=470&235=477&242=483&243=491&244=494&245=496&246=501&248=508&251=512&258=519&259=521&260=523'