from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'norms.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_m = l_0_batchnorm_forward = l_0_batchnorm_backward = l_0_batchnorm_input_value = l_0_layernorm_input_value = l_0_slope_args = l_0_slope_lines = l_0_slope_doc = l_0_norm_slope_kernel = l_0_layernorm_forward = l_0_layernorm_backward = l_0_add_rows = l_0_copy_rows = l_0_accumulate = l_0_batchnorm_split = missing
    pass
    l_0_m = context.vars['m'] = environment.get_template('macros.j2', 'norms.j2')._get_default_module(context)
    context.exported_vars.discard('m')
    def macro(l_1_plan):
        t_1 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        t_1.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef batchnorm_normalize(X, rows, gamma, beta, H, XH, MU, IS):\n    """H = gamma * XH + beta, XH = (X - MU) * IS on rows rows (the batch\'s statistics)."""\n    for r in range(rows):\n        for k in range(X.shape[1]):\n            xh = (X[r, k] - MU[k]) * IS[k]\n            XH[r, k] = xh\n            H[r, k] = gamma[k] * xh + beta[k]\n\n\n@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef batchnorm_forward(X, nb, gamma, beta, H, XH, MU, IS, RM, RV, batch_stats, update_running, momentum, eps):\n    """H = gamma * XH + beta, XH = (X - mu) / sqrt(var + eps) per unit over the nb rows.\n\n    batch_stats: normalize with this batch\'s mean and (biased) variance, kept in MU and IS\n    (1/sqrt(var + eps)) for the backward pass; update_running: also move the running mean\n    and (unbiased) variance RM, RV towards them by momentum (PyTorch\'s convention). Else\n    normalize with RM and RV."""\n    n = X.shape[1]\n    if batch_stats:\n        for k in range(n):\n            MU[k] = 0.0\n            IS[k] = 0.0\n        # one row a pass here: four (macros.j2\'s column_sums) saved 46 ns of a 32 x 32\n        # batch\'s forward pass and cost a batch-normalized network\'s first build 0.35 s\n        for r in range(nb):\n            for k in range(n):\n                MU[k] += X[r, k]\n        for k in range(n):\n            MU[k] /= nb\n        for r in range(nb):\n            for k in range(n):\n                d = X[r, k] - MU[k]\n                IS[k] += d * d  # the sum of squares until the next loop\n        for k in range(n):\n            var = IS[k] / nb\n            if update_running:\n                RM[k] = (1.0 - momentum) * RM[k] + momentum * MU[k]\n                RV[k] = (1.0 - momentum) * RV[k] + momentum * (IS[k] / (nb - 1) if nb > 1 else var)\n            IS[k] = 1.0 / math.sqrt(var + eps)\n    else:\n        for k in range(n):\n            MU[k] = RM[k]\n            IS[k] = 1.0 / math.sqrt(RV[k] + eps)\n    batchnorm_normalize(X, nb, gamma, beta, H, XH, MU, IS)',
        ))
        return concat(t_1)
    context.exported_vars.add('batchnorm_forward')
    context.vars['batchnorm_forward'] = l_0_batchnorm_forward = Macro(environment, macro, 'batchnorm_forward', ('plan',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_plain):
        t_2 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_plain is missing:
            l_1_plain = undefined("parameter 'plain' was not provided", name='plain')
        pass
        t_2.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef batchnorm_grad_sums(G, XH, rows, dgamma, dbeta):\n    """dgamma = sum_r G XH and dbeta = sum_r G over rows rows (on the split path, one\n    thread\'s share)."""\n    n = G.shape[1]\n    for k in range(n):\n        dgamma[k] = 0.0\n        dbeta[k] = 0.0\n',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'column_sums'), '    ', 'rows', 'n', 'k', ['dgamma', 'dbeta'], ['G[@, k] * XH[@, k]', 'G[@, k]'])),
        ))
        if l_1_plain:
            pass
            t_2.extend((
                '\n\n\n@njit(',
                str(environment.getattr(l_1_plan, 'jit')),
                ')\ndef batchnorm_input_grad(G, XH, IS, gamma, rows, nb, E, SGX, SG, into):\n    """The input\'s gradient on rows rows, gamma / (m sigma) (m G - sum G - XH sum G XH)\n    with the batch\'s sums SG = sum G, SGX = sum G XH and m = nb, written as\n    gamma sigma^-1 (G - SG / m - XH SGX / m): into E (GRAD_WRITE), added to E (GRAD_ADD:\n    its input has another consumer that wrote first), or not at all (GRAD_NONE)."""\n    # 1/m in the buffers\' precision: an integer or double factor would turn the whole loop\n    # into double arithmetic (half the vector width, and conversions)\n    inv_m = ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, '1.0 / nb')),
                '\n    if into == GRAD_WRITE:\n        for r in range(rows):\n            for k in range(G.shape[1]):\n                E[r, k] = ',
                str(context.call((undefined(name='batchnorm_input_value') if l_0_batchnorm_input_value is missing else l_0_batchnorm_input_value))),
                '\n    elif into == GRAD_ADD:\n        for r in range(rows):\n            for k in range(G.shape[1]):\n                E[r, k] += ',
                str(context.call((undefined(name='batchnorm_input_value') if l_0_batchnorm_input_value is missing else l_0_batchnorm_input_value))),
                '\n\n\n@njit(',
                str(environment.getattr(l_1_plan, 'jit')),
                ')\ndef batchnorm_backward(G, XH, IS, gamma, nb, E, dgamma, dbeta, into):\n    """From G = dJ/dH: dgamma = sum_r G XH, dbeta = sum_r G, and the gradient of the\n    input, gamma / (m sigma) (m G - sum_r G - XH sum_r G XH) with m = nb rows\n    (symprop.derive.norms derives it), into E as ``into`` says. The split path\'s kernels,\n    on the whole batch."""\n    batchnorm_grad_sums(G, XH, nb, dgamma, dbeta)\n    batchnorm_input_grad(G, XH, IS, gamma, nb, nb, E, dgamma, dbeta, into)\n',
            ))
        return concat(t_2)
    context.exported_vars.add('batchnorm_backward')
    context.vars['batchnorm_backward'] = l_0_batchnorm_backward = Macro(environment, macro, 'batchnorm_backward', ('plan', 'plain'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro():
        t_3 = []
        pass
        t_3.append(
            'gamma[k] * IS[k] * (G[r, k] - inv_m * SG[k] - inv_m * XH[r, k] * SGX[k])',
        )
        return concat(t_3)
    context.exported_vars.add('batchnorm_input_value')
    context.vars['batchnorm_input_value'] = l_0_batchnorm_input_value = Macro(environment, macro, 'batchnorm_input_value', (), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro():
        t_4 = []
        pass
        t_4.append(
            'IS[r] * (gamma[k] * G[r, k] - inv_n * s1 - inv_n * XH[r, k] * s2)',
        )
        return concat(t_4)
    context.exported_vars.add('layernorm_input_value')
    context.vars['layernorm_input_value'] = l_0_layernorm_input_value = Macro(environment, macro, 'layernorm_input_value', (), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_kernel):
        t_5 = []
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        pass
        t_5.extend((
            ', S',
            str((', M' if environment.getattr(l_1_kernel, 'dropout') else cond_expr_undefined("the inline if-expression on line 111 in 'norms.j2' evaluated to false and no else section was defined."))),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr(l_1_kernel, 'act'), 'hyper'))),
        ))
        return concat(t_5)
    context.exported_vars.add('slope_args')
    context.vars['slope_args'] = l_0_slope_args = Macro(environment, macro, 'slope_args', ('kernel',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_kernel, l_1_value):
        t_6 = []
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        if l_1_value is missing:
            l_1_value = undefined("parameter 'value' was not provided", name='value')
        pass
        t_6.extend((
            '            ',
            str(environment.getattr(environment.getattr(l_1_kernel, 'act'), 'backward_from')),
            ' = S[r, k]\n',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr(environment.getattr(l_1_kernel, 'act'), 'backward'), 12)),
            '\n            D[r, k] = (',
            str(l_1_value),
            ') * slope',
            str((' * M[r, k]' if environment.getattr(l_1_kernel, 'dropout') else cond_expr_undefined("the inline if-expression on line 117 in 'norms.j2' evaluated to false and no else section was defined."))),
        ))
        return concat(t_6)
    context.exported_vars.add('slope_lines')
    context.vars['slope_lines'] = l_0_slope_lines = Macro(environment, macro, 'slope_lines', ('kernel', 'value'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_kernel):
        t_7 = []
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        pass
        t_7.extend((
            "on through the dense layer below's slope\n    (",
            str(environment.getattr(environment.getattr(l_1_kernel, 'act'), 'label')),
            "'",
            str((', dropout mask M' if environment.getattr(l_1_kernel, 'dropout') else cond_expr_undefined("the inline if-expression on line 122 in 'norms.j2' evaluated to false and no else section was defined."))),
            ", one pass): D is that layer's delta, S its ",
            str(('output A' if (environment.getattr(environment.getattr(l_1_kernel, 'act'), 'backward_from') == 'a') else 'pre-activation Z')),
        ))
        return concat(t_7)
    context.exported_vars.add('slope_doc')
    context.vars['slope_doc'] = l_0_slope_doc = Macro(environment, macro, 'slope_doc', ('kernel',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_kernel):
        t_8 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_kernel is missing:
            l_1_kernel = undefined("parameter 'kernel' was not provided", name='kernel')
        pass
        if (environment.getattr(l_1_kernel, 'variant') == 'batchnorm'):
            pass
            t_8.extend((
                '@njit(',
                str(environment.getattr(l_1_plan, 'jit')),
                ')\ndef batchnorm_input_grad_',
                str(environment.getattr(l_1_kernel, 'name')),
                '(G, XH, IS, gamma, rows, nb, D, SGX, SG',
                str(context.call((undefined(name='slope_args') if l_0_slope_args is missing else l_0_slope_args), l_1_kernel)),
                '):\n    """batchnorm_input_grad\'s gradient on rows rows, ',
                str(context.call((undefined(name='slope_doc') if l_0_slope_doc is missing else l_0_slope_doc), l_1_kernel)),
                '."""\n    inv_m = ',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, '1.0 / nb')),
                '\n    for r in range(rows):\n        for k in range(G.shape[1]):\n',
                str(context.call((undefined(name='slope_lines') if l_0_slope_lines is missing else l_0_slope_lines), l_1_kernel, context.call((undefined(name='batchnorm_input_value') if l_0_batchnorm_input_value is missing else l_0_batchnorm_input_value)))),
                '\n\n\n@njit(',
                str(environment.getattr(l_1_plan, 'jit')),
                ')\ndef batchnorm_backward_',
                str(environment.getattr(l_1_kernel, 'name')),
                '(G, XH, IS, gamma, nb, D, dgamma, dbeta',
                str(context.call((undefined(name='slope_args') if l_0_slope_args is missing else l_0_slope_args), l_1_kernel)),
                '):\n    """batchnorm_backward, its input\'s gradient ',
                str(context.call((undefined(name='slope_doc') if l_0_slope_doc is missing else l_0_slope_doc), l_1_kernel)),
                '."""\n    batchnorm_grad_sums(G, XH, nb, dgamma, dbeta)\n    batchnorm_input_grad_',
                str(environment.getattr(l_1_kernel, 'name')),
                '(G, XH, IS, gamma, nb, nb, D, dgamma, dbeta',
                str(context.call((undefined(name='slope_args') if l_0_slope_args is missing else l_0_slope_args), l_1_kernel)),
                ')\n',
            ))
        else:
            pass
            t_8.extend((
                str(context.call((undefined(name='layernorm_backward') if l_0_layernorm_backward is missing else l_0_layernorm_backward), l_1_plan, l_1_kernel)),
                '\n',
            ))
        return concat(t_8)
    context.exported_vars.add('norm_slope_kernel')
    context.vars['norm_slope_kernel'] = l_0_norm_slope_kernel = Macro(environment, macro, 'norm_slope_kernel', ('plan', 'kernel'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan):
        t_9 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        t_9.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef layernorm_forward(X, nb, gamma, beta, H, XH, IS, eps):\n    """H = gamma * XH + beta, XH = (X - mu) / sqrt(var + eps) with mu and the (biased)\n    variance of each row\'s units; IS keeps each row\'s 1/sqrt(var + eps)."""\n    n = X.shape[1]\n    for r in range(nb):\n        mu = 0.0\n        for k in range(n):\n            mu += X[r, k]\n        mu /= n\n        var = 0.0\n        for k in range(n):\n            d = X[r, k] - mu\n            var += d * d\n        inv = 1.0 / math.sqrt(var / n + eps)\n        IS[r] = inv\n        for k in range(n):\n            xh = (X[r, k] - mu) * inv\n            XH[r, k] = xh\n            H[r, k] = gamma[k] * xh + beta[k]',
        ))
        return concat(t_9)
    context.exported_vars.add('layernorm_forward')
    context.vars['layernorm_forward'] = l_0_layernorm_forward = Macro(environment, macro, 'layernorm_forward', ('plan',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_kernel):
        t_10 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_kernel is missing:
            l_1_kernel = None
        pass
        t_10.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\n',
        ))
        if l_1_kernel:
            pass
            t_10.extend((
                'def layernorm_backward_',
                str(environment.getattr(l_1_kernel, 'name')),
                '(G, XH, IS, gamma, nb, D, dgamma, dbeta',
                str(context.call((undefined(name='slope_args') if l_0_slope_args is missing else l_0_slope_args), l_1_kernel)),
                '):\n    """layernorm_backward, its input\'s gradient ',
                str(context.call((undefined(name='slope_doc') if l_0_slope_doc is missing else l_0_slope_doc), l_1_kernel)),
                '."""\n',
            ))
        else:
            pass
            t_10.append(
                'def layernorm_backward(G, XH, IS, gamma, nb, E, dgamma, dbeta, into):\n    """From G = dJ/dH: dgamma, dbeta summed over the rows, and the gradient of the input,\n    row by row: sigma^-1 / n (n gamma G - sum_j gamma_j G_j - XH sum_j gamma_j G_j XH_j)\n    (symprop.derive.norms derives it), into E as ``into`` says (batchnorm_input_grad)."""\n',
            )
        t_10.extend((
            "    n = G.shape[1]\n    # as in batchnorm_input_grad: 1/n in the buffers' precision keeps the loops single\n    inv_n = ",
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lit'), l_1_plan, '1.0 / n')),
            '\n    for k in range(n):\n        dgamma[k] = 0.0\n        dbeta[k] = 0.0\n    for r in range(nb):\n        s1 = 0.0\n        s2 = 0.0\n        for k in range(n):\n            gg = gamma[k] * G[r, k]\n            s1 += gg\n            s2 += gg * XH[r, k]\n            dgamma[k] += G[r, k] * XH[r, k]\n            dbeta[k] += G[r, k]\n',
        ))
        if l_1_kernel:
            pass
            t_10.extend((
                '        for k in range(n):\n',
                str(context.call((undefined(name='slope_lines') if l_0_slope_lines is missing else l_0_slope_lines), l_1_kernel, context.call((undefined(name='layernorm_input_value') if l_0_layernorm_input_value is missing else l_0_layernorm_input_value)))),
                '\n',
            ))
        else:
            pass
            t_10.extend((
                '        if into == GRAD_WRITE:\n            for k in range(n):\n                E[r, k] = ',
                str(context.call((undefined(name='layernorm_input_value') if l_0_layernorm_input_value is missing else l_0_layernorm_input_value))),
                '\n        elif into == GRAD_ADD:\n            for k in range(n):\n                E[r, k] += ',
                str(context.call((undefined(name='layernorm_input_value') if l_0_layernorm_input_value is missing else l_0_layernorm_input_value))),
                '\n',
            ))
        return concat(t_10)
    context.exported_vars.add('layernorm_backward')
    context.vars['layernorm_backward'] = l_0_layernorm_backward = Macro(environment, macro, 'layernorm_backward', ('plan', 'kernel'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan):
        t_11 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        t_11.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef add_rows(A, B, OUT, nb):\n    """OUT = A + B on the first nb rows: a residual block\'s input plus its body\'s output."""\n    for r in range(nb):\n        for k in range(OUT.shape[1]):\n            OUT[r, k] = A[r, k] + B[r, k]',
        ))
        return concat(t_11)
    context.exported_vars.add('add_rows')
    context.vars['add_rows'] = l_0_add_rows = Macro(environment, macro, 'add_rows', ('plan',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan):
        t_12 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        t_12.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef copy_rows(G, E, nb):\n    """G = E on the first nb rows (a loop: a sliced copy costs Numba several times more)."""\n    for r in range(nb):\n        for k in range(G.shape[1]):\n            G[r, k] = E[r, k]',
        ))
        return concat(t_12)
    context.exported_vars.add('copy_rows')
    context.vars['copy_rows'] = l_0_copy_rows = Macro(environment, macro, 'copy_rows', ('plan',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan):
        t_13 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        t_13.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef accumulate(G, E, nb):\n    """G += E on the first nb rows: a value with two consumers gets both gradients."""\n    for r in range(nb):\n        for k in range(G.shape[1]):\n            G[r, k] += E[r, k]',
        ))
        return concat(t_13)
    context.exported_vars.add('accumulate')
    context.vars['accumulate'] = l_0_accumulate = Macro(environment, macro, 'accumulate', ('plan',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan):
        t_14 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        t_14.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef batchnorm_moments(X, rows, MOM):\n    """Mean (MOM[0]) and sum of squared deviations (MOM[1]) of each unit over rows rows."""\n    n = X.shape[1]\n    for k in range(n):\n        MOM[0, k] = 0.0\n        MOM[1, k] = 0.0\n    for r in range(rows):\n        for k in range(n):\n            MOM[0, k] += X[r, k]\n    if rows > 0:\n        for k in range(n):\n            MOM[0, k] /= rows\n    for r in range(rows):\n        for k in range(n):\n            d = X[r, k] - MOM[0, k]\n            MOM[1, k] += d * d\n\n\n@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef batchnorm_statistics(work, shards, nb, offset, MU, IS, RM, RV, momentum, eps):\n    """The batch\'s mean and 1/sigma from each thread\'s moments (at offset in its work row;\n    thread t had rows t nb // shards .. (t + 1) nb // shards): Chan\'s parallel formula.\n    Moves the running mean and (unbiased) variance by momentum."""\n    n = MU.shape[0]\n    for k in range(n):\n        mean = 0.0\n        for t in range(shards):\n            count = (t + 1) * nb // shards - t * nb // shards\n            mean += count * work[t, offset + k]\n        mean /= nb\n        squares = 0.0\n        for t in range(shards):\n            count = (t + 1) * nb // shards - t * nb // shards\n            d = work[t, offset + k] - mean\n            squares += work[t, offset + n + k] + count * d * d\n        var = squares / nb\n        RM[k] = (1.0 - momentum) * RM[k] + momentum * mean\n        RV[k] = (1.0 - momentum) * RV[k] + momentum * (squares / (nb - 1) if nb > 1 else var)\n        MU[k] = mean\n        IS[k] = 1.0 / math.sqrt(var + eps)\n\n\n@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef batchnorm_grad_totals(grads, shards, gamma_offset, beta_offset, SGX, SG):\n    """The batch\'s sums over rows of G XH and G: the threads\' shares (in their gradients)."""\n    for k in range(SG.shape[0]):\n        gx = 0.0\n        g = 0.0\n        for t in range(shards):\n            gx += grads[t, gamma_offset + k]\n            g += grads[t, beta_offset + k]\n        SGX[k] = gx\n        SG[k] = g',
        ))
        return concat(t_14)
    context.exported_vars.add('batchnorm_split')
    context.vars['batchnorm_split'] = l_0_batchnorm_split = Macro(environment, macro, 'batchnorm_split', ('plan',), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '4=12&6=14&7=21&17=23&56=29&57=38&65=40&66=42&70=46&78=48&82=50&86=52&89=54&100=61&104=71&110=80&111=87&114=94&115=103&116=105&117=107&120=115&122=122&127=131&128=138&129=142&130=144&131=148&132=150&135=152&138=154&139=156&140=160&142=162&144=170&148=177&149=184&173=190&174=199&175=202&176=206&177=210&186=220&199=223&201=227&205=234&208=236&212=243&213=250&221=257&222=264&230=271&231=278&242=284&243=291&262=293&286=295'