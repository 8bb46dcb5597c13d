from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'layers.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_m = l_0_matmul = l_0_flat_index = l_0_forward_kernel = l_0_delta_kernel = l_0_delta_add_kernel = l_0_grad_kernel = l_0_grad_delta_kernel = l_0_blas_bias_sums = l_0_step_kernel = l_0_slope_kernel = missing
    pass
    l_0_m = context.vars['m'] = environment.get_template('macros.j2', 'layers.j2')._get_default_module(context)
    context.exported_vars.discard('m')
    def macro(l_1_plan, l_1_kernel, l_1_add_bias, l_1_Z):
        t_1 = []
        l_1_range = resolve('range')
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
                '    # few outputs: a dot product each, all in one pass over the inputs (vector-wide over\n    # them), each output its own accumulator. W is the flat view of the n_in x ',
                str(environment.getattr(l_1_kernel, 'width')),
                ' weights,\n    # so the loops know its row length. One output at a time read W with a stride, which\n    # the vector loop does element by element (32 rows of 32 inputs, 4 outputs: 1.6 against\n    # 0.41 us)\n    for r in range(nb):\n',
            ))
            for l_2_j in context.call((undefined(name='range') if l_1_range is missing else l_1_range), environment.getattr(l_1_kernel, 'width')):
                _loop_vars = {}
                pass
                t_1.extend((
                    '        acc',
                    str(l_2_j),
                    ' = b[',
                    str(l_2_j),
                    ']\n',
                ))
            l_2_j = missing
            t_1.append(
                '        for k in range(inp.shape[1]):\n            x = inp[r, k]\n',
            )
            for l_2_j in context.call((undefined(name='range') if l_1_range is missing else l_1_range), environment.getattr(l_1_kernel, 'width')):
                _loop_vars = {}
                pass
                t_1.extend((
                    '            acc',
                    str(l_2_j),
                    ' += x * W[',
                    str(context.call((undefined(name='flat_index') if l_0_flat_index is missing else l_0_flat_index), 'k', l_2_j, environment.getattr(l_1_kernel, 'width'), _loop_vars=_loop_vars)),
                    ']\n',
                ))
            l_2_j = missing
            for l_2_j in context.call((undefined(name='range') if l_1_range is missing else l_1_range), environment.getattr(l_1_kernel, 'width')):
                _loop_vars = {}
                pass
                t_1.extend((
                    '        ',
                    str(l_1_Z),
                    '[r, ',
                    str(l_2_j),
                    '] = acc',
                    str(l_2_j),
                    '\n',
                ))
            l_2_j = missing
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
        l_1_wide32 = resolve('wide32')
        l_1_rest_type = resolve('rest_type')
        l_1_T = resolve('T')
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
            str(('Z, ' if environment.getattr(l_1_kernel, 'keep_z') else cond_expr_undefined("the inline if-expression on line 61 in 'layers.j2' evaluated to false and no else section was defined."))),
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
            str((', and Z = log(A)' if (environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'is_softmax') and environment.getattr(l_1_kernel, 'keep_z')) else cond_expr_undefined("the inline if-expression on line 62 in 'layers.j2' evaluated to false and no else section was defined."))),
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
                "[r, j]\n            top = zj if zj > top else top\n        # rest: the other columns' share, e^(z - top) summed over the columns below the top\n        # (and 1 for each further column that ties it), kept apart from the top's own 1: a\n        # confident row's loss is log(1 + rest), which a sum with the 1 rounds away (logits\n        # 18 apart in float32: a loss of 4.6e-8 came out 0; 30 apart in double, 0.6% off).\n        # A mask, not a select: the loop then still vectorises\n",
            ))
            l_1_wide32 = ((environment.getattr(l_1_plan, 'float_type') == 'float32') and (environment.getattr(l_1_kernel, 'variant') != 'narrow'))
            l_1_rest_type = ('np.float32' if (undefined(name='wide32') if l_1_wide32 is missing else l_1_wide32) else 'np.float64')
            if (undefined(name='wide32') if l_1_wide32 is missing else l_1_wide32):
                pass
                t_3.append(
                    "        # float32 throughout, e^x from arithmetic alone: the loop vectorises (the C\n        # library's expf is a call per element; 1.5 -> 0.8 us for 32 rows of 10). Not for\n        # fewer outputs than a vector (narrow): little to gain, and its compile cost the\n        # iris network's cold start 0.2 s\n",
                )
            t_3.extend((
                '        zero = ',
                str((undefined(name='rest_type') if l_1_rest_type is missing else l_1_rest_type)),
                '(0.0)\n        one = ',
                str((undefined(name='rest_type') if l_1_rest_type is missing else l_1_rest_type)),
                "(1.0)\n        rest = zero\n        ties = -1  # an integer: 'reassoc' could otherwise merge its sum into rest's, 1s and all\n        for j in range(",
                str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
                '):\n            gap = ',
                str((undefined(name='Z') if l_1_Z is missing else l_1_Z)),
                '[r, j] - top\n',
            ))
            if environment.getattr(l_1_kernel, 'keep_z'):
                pass
                t_3.append(
                    '            Z[r, j] = gap\n',
                )
            t_3.extend((
                '            e = ',
                str(('_exp_neg32' if (undefined(name='wide32') if l_1_wide32 is missing else l_1_wide32) else 'math.exp')),
                "(gap)\n            A[r, j] = e\n            below = gap < zero  # a NaN's e reaches rest all the same (NaN * 0)\n            rest += e * ",
                str((undefined(name='rest_type') if l_1_rest_type is missing else l_1_rest_type)),
                '(below)\n            ties += not below\n        rest += ',
                str((undefined(name='rest_type') if l_1_rest_type is missing else l_1_rest_type)),
                '(ties)\n        norm = one + rest\n',
            ))
            if environment.getattr(l_1_kernel, 'keep_z'):
                pass
                t_3.append(
                    "        # Z becomes log(A) = (z - top) - log1p(rest), what the cross-entropy reads (no\n        # exponentials of its own: K of them a row were a fifth of a small network's\n        # step); nothing else reads a softmax layer's Z. z - top is stored first, in the\n        # loop above: 'reassoc' made (z - top) - log1p(rest) of one expression z - (top +\n        # log1p(rest)), which keeps no more of log1p(rest) than top's precision allows (a\n        # 3e-3 loss at logits near 300 came out 7e-6 off in float32)\n",
                )
                if (environment.getattr(l_1_plan, 'float_type') == 'float32'):
                    pass
                    t_3.append(
                        "        # log1p(rest) from its series below 1/16 (to rest^6: within 1e-8 of it), log(norm)\n        # above (within 1e-6 where norm is float32's): a call to log1pf cost 7 ns a row\n",
                    )
                    l_1_T = (undefined(name='rest_type') if l_1_rest_type is missing else l_1_rest_type)
                    t_3.extend((
                        '        tail = rest * (one - rest * (',
                        str((undefined(name='T') if l_1_T is missing else l_1_T)),
                        '(1 / 2) - rest * (',
                        str((undefined(name='T') if l_1_T is missing else l_1_T)),
                        '(1 / 3) - rest * (',
                        str((undefined(name='T') if l_1_T is missing else l_1_T)),
                        '(1 / 4) - rest * (',
                        str((undefined(name='T') if l_1_T is missing else l_1_T)),
                        '(1 / 5) - rest * ',
                        str((undefined(name='T') if l_1_T is missing else l_1_T)),
                        '(1 / 6))))))\n        tail = tail if rest < ',
                        str((undefined(name='rest_type') if l_1_rest_type is missing else l_1_rest_type)),
                        '(0.0625) else math.log(norm)\n',
                    ))
                else:
                    pass
                    t_3.append(
                        '        tail = math.log1p(rest)\n',
                    )
                t_3.extend((
                    '        for j in range(',
                    str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
                    '):\n            A[r, j] /= norm\n            Z[r, j] -= tail\n',
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
                str(('\n    W comes transposed (run() keeps W^T): the product is D @ W.' if environment.getattr(l_1_kernel, 'transposed') else cond_expr_undefined("the inline if-expression on line 151 in 'layers.j2' evaluated to false and no else section was defined."))),
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
            str(('\n    W comes transposed (run() keeps W^T): the product is D @ W.' if environment.getattr(l_1_kernel, 'transposed') else cond_expr_undefined("the inline if-expression on line 210 in 'layers.j2' evaluated to false and no else section was defined."))),
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
            str((', dW flat' if environment.getattr(l_1_kernel, 'width') else cond_expr_undefined("the inline if-expression on line 235 in 'layers.j2' evaluated to false and no else section was defined."))),
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
                '\n    # input by input, each adding to its row of dW (',
                str(environment.getattr(l_1_kernel, 'width')),
                " wide): the vector\n    # loop then runs over inputs and reads and writes dW's rows whole. The outputs outermost\n    # made each row of dW, a stride apart, a chain of scalar additions through memory (64\n    # inputs, 4 outputs, 32 rows: 6.7 against 0.95 us)\n    for r in range(nb):\n        for k in range(inp.shape[1]):\n            x = inp[r, k]\n            for j in range(",
                str(environment.getattr(l_1_kernel, 'width')),
                '):\n                dW[',
                str(context.call((undefined(name='flat_index') if l_0_flat_index is missing else l_0_flat_index), 'k', 'j', environment.getattr(l_1_kernel, 'width'))),
                '] += x * D[r, j]\n',
            ))
        else:
            pass
            t_6.extend((
                '    for k in range(dW.shape[0]):\n        for j in range(dW.shape[1]):\n            dW[k, j] = ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
                '\n    for r in range(nb):\n        for k in range(dW.shape[0]):\n            x = inp[r, k]\n            for j in range(dW.shape[1]):\n                dW[k, j] += x * D[r, j]\n',
            ))
        l_1_cols = (environment.getattr(l_1_kernel, 'width') or 'db.shape[0]')
        if (environment.getattr(l_1_kernel, 'variant') == 'blas'):
            pass
            t_6.extend((
                str(context.call((undefined(name='blas_bias_sums') if l_0_blas_bias_sums is missing else l_0_blas_bias_sums), l_1_plan, (undefined(name='cols') if l_1_cols is missing else l_1_cols))),
                '\n',
            ))
        else:
            pass
            t_6.extend((
                '    for j in range(',
                str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
                '):\n        db[j] = ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
                "\n    # one row a pass in the loops' kernels: their layers are small, and the blocked loop's\n    # extra code cost a cold start 0.1 s of compiling for each\n    for r in range(nb):\n        for j in range(",
                str((undefined(name='cols') if l_1_cols is missing else l_1_cols)),
                '):\n            db[j] += D[r, j]\n',
            ))
        return concat(t_6)
    context.exported_vars.add('grad_kernel')
    context.vars['grad_kernel'] = l_0_grad_kernel = Macro(environment, macro, 'grad_kernel', ('plan', 'kernel'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_kernel):
        t_7 = []
        l_1_act = l_1_separate = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        pass
        l_1_act = environment.getattr(l_1_kernel, 'act')
        l_1_separate = (environment.getattr(l_1_kernel, 'dropout') or (environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward_from') != 'a'))
        t_7.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef ',
            str(environment.getattr(l_1_kernel, 'name')),
            '(inp, D, nb, dW, db, W, ',
            str(('S, ' if (undefined(name='separate') if l_1_separate is missing else l_1_separate) else cond_expr_undefined("the inline if-expression on line 284 in 'layers.j2' evaluated to false and no else section was defined."))),
            'OUT',
            str((', M' if environment.getattr(l_1_kernel, 'dropout') else '')),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'hyper'))),
            '):\n    """dW = inp^T D and db = column sums of D (narrow, dW and W flat), and OUT = (D @ W^T)',
            str((' * M' if environment.getattr(l_1_kernel, 'dropout') else '')),
            '\n    then through ',
            str(environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'label')),
            "': the delta of the layer below (inp is its ",
            str(('dropped-out ' if environment.getattr(l_1_kernel, 'dropout') else cond_expr_undefined("the inline if-expression on line 286 in 'layers.j2' evaluated to false and no else section was defined."))),
            "output), both in one\n    pass over inp's rows. ",
            str((str_join(('S is what the derivative reads: its ', ('output A' if (environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward_from') == 'a') else 'pre-activation Z'), '.', )) if (undefined(name='separate') if l_1_separate is missing else l_1_separate) else 'The derivative reads inp.')),
            '"""\n    for i in range(dW.shape[0]):\n        dW[i] = ',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
            '\n    for r in range(nb):\n        for k in range(inp.shape[1]):\n            x = inp[r, k]\n            g = ',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
            '\n            for j in range(',
            str(environment.getattr(l_1_kernel, 'width')),
            '):\n                dW[',
            str(context.call((undefined(name='flat_index') if l_0_flat_index is missing else l_0_flat_index), 'k', 'j', environment.getattr(l_1_kernel, 'width'))),
            '] += x * D[r, j]\n                g += D[r, j] * W[',
            str(context.call((undefined(name='flat_index') if l_0_flat_index is missing else l_0_flat_index), 'k', 'j', environment.getattr(l_1_kernel, 'width'))),
            ']\n            ',
            str(environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward_from')),
            ' = ',
            str(('S[r, k]' if (undefined(name='separate') if l_1_separate is missing else l_1_separate) else 'x')),
            '\n',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward'), 12)),
            '\n            OUT[r, k] = g * slope',
            str((' * M[r, k]' if environment.getattr(l_1_kernel, 'dropout') else '')),
            '\n    for j in range(',
            str(environment.getattr(l_1_kernel, 'width')),
            '):\n        db[j] = ',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
            '\n    for r in range(nb):\n        for j in range(',
            str(environment.getattr(l_1_kernel, 'width')),
            '):\n            db[j] += D[r, j]',
        ))
        return concat(t_7)
    context.exported_vars.add('grad_delta_kernel')
    context.vars['grad_delta_kernel'] = l_0_grad_delta_kernel = Macro(environment, macro, 'grad_delta_kernel', ('plan', 'kernel'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_cols):
        t_8 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_cols is missing:
            l_1_cols = undefined("parameter 'cols' was not provided", name='cols')
        pass
        t_8.extend((
            '    for j in range(',
            str(l_1_cols),
            '):\n        db[j] = ',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, 0.0)),
            '\n',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'column_sums'), '    ', 'nb', l_1_cols, 'j', ['db'], ['D[@, j]'])),
        ))
        return concat(t_8)
    context.exported_vars.add('blas_bias_sums')
    context.vars['blas_bias_sums'] = l_0_blas_bias_sums = Macro(environment, macro, 'blas_bias_sums', ('plan', 'cols'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan):
        t_9 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        t_9.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef step_blas(inp, D, nb, W, b, db, hp_lr_in):\n    """W -= lr inp^T D inside the product (BLAS\'s alpha = -lr, beta = 1: the weight gradient\n    is never stored), b -= lr times D\'s column sums (db holds them, as grad_blas leaves\n    them)."""\n    hp_lr = ',
            str(('np.float32(hp_lr_in)' if (environment.getattr(l_1_plan, 'float_type') == 'float32') else 'hp_lr_in')),
            '\n    ',
            str(environment.getattr(l_1_plan, 'gemm_step')),
            '(inp, D, W, nb, hp_lr)\n',
            str(context.call((undefined(name='blas_bias_sums') if l_0_blas_bias_sums is missing else l_0_blas_bias_sums), l_1_plan, 'db.shape[0]')),
            '\n    for j in range(b.shape[0]):\n        b[j] = -db[j] * hp_lr + b[j]',
        ))
        return concat(t_9)
    context.exported_vars.add('step_kernel')
    context.vars['step_kernel'] = l_0_step_kernel = Macro(environment, macro, 'step_kernel', ('plan',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_kernel):
        t_10 = []
        l_1_act = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        pass
        l_1_act = environment.getattr(l_1_kernel, 'act')
        t_10.extend((
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
            t_10.extend((
                '        dot = 0.0\n        for k in range(D.shape[1]):\n            g = G[r, k]',
                str((' * M[r, k]' if environment.getattr(l_1_kernel, 'dropout') else '')),
                '\n            D[r, k] = g\n            dot += g * S[r, k]\n        for k in range(D.shape[1]):\n            D[r, k] = S[r, k] * (D[r, k] - dot)\n',
            ))
        else:
            pass
            t_10.extend((
                '        for k in range(D.shape[1]):\n            ',
                str(environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward_from')),
                ' = S[r, k]\n',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr((undefined(name='act') if l_1_act is missing else l_1_act), 'backward'), 12)),
                '\n            D[r, k] = G[r, k] * slope',
                str((' * M[r, k]' if environment.getattr(l_1_kernel, 'dropout') else '')),
                '\n',
            ))
        return concat(t_10)
    context.exported_vars.add('slope_kernel')
    context.vars['slope_kernel'] = l_0_slope_kernel = Macro(environment, macro, 'slope_kernel', ('plan', 'kernel'), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '6=12&8=14&9=26&10=28&11=32&13=41&15=44&18=48&20=51&22=55&27=58&28=63&32=72&33=77&35=83&36=88&42=100&46=102&52=108&53=118&56=124&57=135&58=136&59=137&60=140&61=142&62=148&63=160&64=162&65=165&69=169&70=171&71=173&78=176&79=177&80=178&86=185&87=187&90=189&91=191&92=194&95=201&98=203&100=205&102=208&109=213&112=218&113=221&114=231&118=241&122=248&127=255&128=258&129=262&130=264&131=267&135=276&137=280&142=287&143=296&144=299&146=304&147=305&148=308&149=310&150=315&151=319&152=324&153=328&154=331&155=335&156=338&159=345&160=349&166=359&167=362&168=366&169=368&174=376&176=380&177=382&178=384&183=392&185=397&188=402&196=414&197=416&198=418&206=424&207=433&208=435&210=437&211=440&212=444&213=447&214=451&215=454&220=463&221=466&222=470&223=472&232=487&233=497&234=499&235=501&236=505&237=509&238=512&240=517&242=521&243=523&250=525&251=527&255=534&262=537&263=538&264=541&266=548&267=550&271=552&280=558&281=566&282=567&283=570&284=572&285=579&286=581&287=585&289=587&293=589&294=591&295=593&296=595&297=597&298=601&299=603&300=605&301=607&303=609&308=615&309=624&310=626&311=628&317=633&318=640&323=642&324=644&325=646&332=652&333=660&334=663&335=665&336=670&338=677&341=681&348=688&349=690&350=692'