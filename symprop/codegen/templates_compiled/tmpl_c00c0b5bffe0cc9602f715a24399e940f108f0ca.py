from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'macros.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_range = resolve('range')
    l_0_ROW_TUPLE_COLUMNS = l_0_args = l_0_tail = l_0_lit = l_0_lines = l_0_helpers = l_0_float32_cpu_helpers = l_0_loss_delta = l_0_score_row = l_0_score_value = l_0_keep_outputs = l_0_forward_call = l_0_backward_calls = l_0_layer_backward = l_0_delta_call = l_0_stepping_section = l_0_refresh_transposes = l_0_clip_scale = l_0_update_views = l_0_update_tail = l_0_invariant_lines = l_0_update_section = l_0_usage = l_0_shapes = l_0_prefetch_rows = l_0_gather_rows = l_0_copy_row = l_0_confirm_inputs = l_0_batch_in = l_0_column_sums = l_0_thread_batches = l_0_thread_results = missing
    try:
        t_1 = environment.filters['batch']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'batch' found.")
    try:
        t_2 = environment.filters['join']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'join' found.")
    try:
        t_3 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_4 = environment.filters['replace']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No filter named 'replace' found.")
    try:
        t_5 = environment.filters['reverse']
    except KeyError:
        @internalcode
        def t_5(*unused):
            raise TemplateRuntimeError("No filter named 'reverse' found.")
    pass
    l_0_ROW_TUPLE_COLUMNS = context.call((undefined(name='range') if l_0_range is missing else l_0_range), 6, 33)
    context.vars['ROW_TUPLE_COLUMNS'] = l_0_ROW_TUPLE_COLUMNS
    context.exported_vars.add('ROW_TUPLE_COLUMNS')
    yield '\n'
    def macro(l_1_names):
        t_6 = []
        if l_1_names is missing:
            l_1_names = undefined("parameter 'names' was not provided", name='names')
        pass
        t_6.append(
            str(t_2(context.eval_ctx, l_1_names, ', ')),
        )
        return concat(t_6)
    context.exported_vars.add('args')
    context.vars['args'] = l_0_args = Macro(environment, macro, 'args', ('names',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_names):
        t_7 = []
        if l_1_names is missing:
            l_1_names = undefined("parameter 'names' was not provided", name='names')
        pass
        for l_2_name in l_1_names:
            _loop_vars = {}
            pass
            t_7.extend((
                ', ',
                str(l_2_name),
            ))
        l_2_name = missing
        return concat(t_7)
    context.exported_vars.add('tail')
    context.vars['tail'] = l_0_tail = Macro(environment, macro, 'tail', ('names',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_value):
        t_8 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_value is missing:
            l_1_value = undefined("parameter 'value' was not provided", name='value')
        pass
        t_8.extend((
            'np.',
            str(environment.getattr(l_1_plan, 'float_type')),
            '(',
            str(l_1_value),
            ')',
        ))
        return concat(t_8)
    context.exported_vars.add('lit')
    context.vars['lit'] = l_0_lit = Macro(environment, macro, 'lit', ('plan', 'value'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_code, l_1_indent):
        t_9 = []
        if l_1_code is missing:
            l_1_code = undefined("parameter 'code' was not provided", name='code')
        if l_1_indent is missing:
            l_1_indent = undefined("parameter 'indent' was not provided", name='indent')
        pass
        l_2_loop = missing
        for (l_2_name, l_2_expr), l_2_loop in LoopContext(l_1_code, undefined):
            _loop_vars = {}
            pass
            t_9.extend((
                str((' ' * l_1_indent)),
                str(l_2_name),
                ' = ',
                str(l_2_expr),
                str(('\n' if (not environment.getattr(l_2_loop, 'last')) else cond_expr_undefined("the inline if-expression on line 20 in 'macros.j2' evaluated to false and no else section was defined."))),
            ))
        l_2_loop = l_2_name = l_2_expr = missing
        return concat(t_9)
    context.exported_vars.add('lines')
    context.vars['lines'] = l_0_lines = Macro(environment, macro, 'lines', ('code', 'indent'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_jit, l_1_float_type, l_1_decorator):
        t_10 = []
        if l_1_jit is missing:
            l_1_jit = undefined("parameter 'jit' was not provided", name='jit')
        if l_1_float_type is missing:
            l_1_float_type = undefined("parameter 'float_type' was not provided", name='float_type')
        if l_1_decorator is missing:
            l_1_decorator = ''
        pass
        if ((l_1_float_type == 'float32') and (not l_1_decorator)):
            pass
            t_10.extend((
                str(context.call((undefined(name='float32_cpu_helpers') if l_0_float32_cpu_helpers is missing else l_0_float32_cpu_helpers), l_1_jit)),
                '\n',
            ))
        else:
            pass
            t_10.extend((
                str((l_1_decorator or str_join(('@njit(', l_1_jit, ')', )))),
                '\ndef _sigmoid(z):\n    """1/(1 + e^-z) without overflow: with e = e^-|z|, 1/(1 + e) for z >= 0 and\n    e/(1 + e) below. A select, not a branch: the sign of z is a coin toss in training."""\n    one = np.',
                str(l_1_float_type),
                '(1.0)\n    e = math.exp(-abs(z))\n    s = one / (one + e)\n    return s if z >= 0 else e * s\n\n\n',
                str((l_1_decorator or str_join(('@njit(', l_1_jit, ')', )))),
                '\ndef _softplus(z):\n    """log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|)."""\n    zero = np.',
                str(l_1_float_type),
                '(0.0)\n    tail = math.log1p(math.exp(-abs(z)))\n    return (zero if zero > z else z) + tail\n',
            ))
        return concat(t_10)
    context.exported_vars.add('helpers')
    context.vars['helpers'] = l_0_helpers = Macro(environment, macro, 'helpers', ('jit', 'float_type', 'decorator'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_jit):
        t_11 = []
        if l_1_jit is missing:
            l_1_jit = undefined("parameter 'jit' was not provided", name='jit')
        pass
        t_11.extend((
            '@njit(',
            str(l_1_jit),
            ')\ndef _exp_neg(x):\n    """e^x for x <= 0, in double: x = k ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor\n    series to r^8 (the rest is below 3e-10 of it), times 2^k as the product of the powers\n    2^-(2^i) that the bits of -k pick. x below -104 (e^x < 2^-150, zero in float32) is\n    held there; a NaN stays a NaN."""\n    x = x if not (x < -104.0) else -104.0\n    # np.floor keeps k a float: math.floor\'s integer would be undefined for a NaN x\n    k = np.floor(x * 1.4426950408889634 + 0.5)\n    r = x - k * 0.6931471805599453\n    p = 1.0 + r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040 + r * (1 / 40320))))))))\n    m = int(-(k if k <= 0.0 else 0.0))  # 0..150; a NaN x gives 0 (p is NaN anyway)\n    scale = 1.0\n',
        ))
        for l_2_i in context.call((undefined(name='range') if l_0_range is missing else l_0_range), 8):
            _loop_vars = {}
            pass
            t_11.extend((
                '    scale *= ',
                str((2.0 ** (-(2 ** l_2_i)))),
                ' if m & ',
                str((2 ** l_2_i)),
                ' else 1.0\n',
            ))
        l_2_i = missing
        t_11.extend((
            '    return p * scale\n\n\n@njit(',
            str(l_1_jit),
            ', inline="always")\ndef _exp_neg32(x):\n    """e^x in float32 for x <= 0 only (a softmax\'s z - max z), to about an ulp: x = k ln 2 +\n    r with |r| <= ln 2 / 2 (the reduction in double: one operation, which \'reassoc\' cannot\n    split or merge), e^r by Cephes\' expf polynomial, times 2^k made from its exponent\n    bits. Zero below -87.34 (where e^x leaves the normal float32s, and at -inf); a NaN\n    stays a NaN. Inlined by Numba: a function of its own cost a cold start 0.2 s."""\n    low = x < np.float32(-87.33654)  # False for a NaN\n    x = x if not low else np.float32(-87.33654)\n    k = np.floor(x * np.float32(1.44269504) + np.float32(0.5))\n    r = np.float32(np.float64(x) - np.float64(k) * 0.6931471805599453)\n    p = np.float32(1.9875691500e-4)\n    p = p * r + np.float32(1.3981999507e-3)\n    p = p * r + np.float32(8.3334519073e-3)\n    p = p * r + np.float32(4.1665795894e-2)\n    p = p * r + np.float32(1.6666665459e-1)\n    p = p * r + np.float32(5.0000001201e-1)\n    p = p * (r * r) + r + np.float32(1.0)\n    # -126..0; the select makes a NaN\'s k 0 (an integer of NaN would be undefined)\n    m = np.int32(k if k <= np.float32(0.0) else np.float32(0.0))\n    e = p * np.int32((m + np.int32(127)) << np.int32(23)).view(np.float32)\n    return e if not low else np.float32(0.0)\n\n\n@njit(',
            str(l_1_jit),
            ')\ndef _sigmoid(z):\n    """1/(1 + e^-z) without overflow, in double, rounded once: with e = e^-|z|, 1/(1 + e)\n    for z >= 0 and e/(1 + e) below. A select, not a branch: the sign of z is a coin toss\n    in training."""\n    zd = np.float64(z)\n    e = _exp_neg(-abs(zd))\n    s = 1.0 / (1.0 + e)\n    return np.float32(s if zd >= 0.0 else e * s)\n\n\n@njit(',
            str(l_1_jit),
            ', inline="always")\ndef _softplus(z):\n    """log(1 + e^z) without overflow, in double, rounded once: max(z, 0) + log1p(e) with\n    e = e^-|z| in (0, 1]. log1p(e) = 2 atanh(u) with u = e/(2 + e), or, for e above\n    sqrt(2) - 1, ln 2 + 2 atanh(u) with u = (e - 1)/(e + 3): |u| <= 0.1716 either way, and\n    the odd series 2u (1 + u^2/3 + ... + u^8/9) is within 2e-9 of it."""\n    zd = np.float64(z)\n    e = _exp_neg(-abs(zd))\n    upper = e > 0.41421356237309503\n    u = (e - 1.0) / (e + 3.0) if upper else e / (2.0 + e)\n    w = u * u\n    tail = 2.0 * u * (1.0 + w * (1 / 3 + w * (1 / 5 + w * (1 / 7 + w * (1 / 9)))))\n    tail += 0.6931471805599453 if upper else 0.0\n    return np.float32((zd if zd > 0.0 else 0.0) + tail)',
        ))
        return concat(t_11)
    context.exported_vars.add('float32_cpu_helpers')
    context.vars['float32_cpu_helpers'] = l_0_float32_cpu_helpers = Macro(environment, macro, 'float32_cpu_helpers', ('jit',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_rows, l_1_pad):
        t_12 = []
        l_1_L = l_1_K = l_1_inner = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_rows is missing:
            l_1_rows = 'nb'
        if l_1_pad is missing:
            l_1_pad = '        '
        pass
        l_1_L = environment.getattr(environment.getitem(environment.getattr(l_1_plan, 'layers'), -1), 'index')
        l_1_K = environment.getattr(l_1_plan, 'n_out')
        l_1_inner = str_join((l_1_pad, '        ', ))
        t_12.extend((
            str(l_1_pad),
            'dscale = ',
            str(context.call((undefined(name='lit') if l_0_lit is missing else l_0_lit), l_1_plan, 1)),
            ' / (nb * ',
            str(environment.getattr(l_1_plan, 'units_scale')),
            ')\n',
            str(l_1_pad),
            'total = 0.0\n',
            str(l_1_pad),
            'score_a = 0.0\n',
            str(l_1_pad),
            'score_b = 0.0\n',
            str(l_1_pad),
            'for r in range(',
            str(l_1_rows),
            '):',
            str((('  # Z%d holds log(softmax(z)) = z - logsumexp(z)' % (undefined(name='L') if l_1_L is missing else l_1_L)) if (environment.getattr(environment.getattr(l_1_plan, 'loss'), 'mode') == 'softmax_ce') else cond_expr_undefined("the inline if-expression on line 137 in 'macros.j2' evaluated to false and no else section was defined."))),
            '\n',
            str(context.call((undefined(name='score_row') if l_0_score_row is missing else l_0_score_row), l_1_plan, 'start', str_join((l_1_pad, '    ', )))),
        ))
        if (environment.getattr(environment.getattr(l_1_plan, 'loss'), 'mode') == 'softmax_ce'):
            pass
            t_12.extend((
                str(l_1_pad),
                '    for j in range(',
                str((undefined(name='K') if l_1_K is missing else l_1_K)),
                '):\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'yhat = A',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
                '[r, j]\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'y = YB[r, j]\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'total -= y * Z',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
                '[r, j]\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'D',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
                '[r, j] = (yhat - y) * dscale\n',
                str(context.call((undefined(name='score_value') if l_0_score_value is missing else l_0_score_value), l_1_plan, (undefined(name='inner') if l_1_inner is missing else l_1_inner))),
            ))
        elif (environment.getattr(environment.getattr(l_1_plan, 'loss'), 'mode') == 'softmax_vjp'):
            pass
            t_12.extend((
                str(l_1_pad),
                '    dot = 0.0\n',
                str(l_1_pad),
                '    for j in range(',
                str((undefined(name='K') if l_1_K is missing else l_1_K)),
                '):\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'yhat = A',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
                '[r, j]\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'y = YB[r, j]\n',
                str(context.call((undefined(name='lines') if l_0_lines is missing else l_0_lines), environment.getattr(environment.getattr(l_1_plan, 'loss'), 'value'), t_3((undefined(name='inner') if l_1_inner is missing else l_1_inner)))),
                '\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'total += value\n',
                str(context.call((undefined(name='lines') if l_0_lines is missing else l_0_lines), environment.getattr(environment.getattr(l_1_plan, 'loss'), 'delta'), t_3((undefined(name='inner') if l_1_inner is missing else l_1_inner)))),
                '\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'D',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
                '[r, j] = g\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'dot += g * yhat\n',
                str(context.call((undefined(name='score_value') if l_0_score_value is missing else l_0_score_value), l_1_plan, (undefined(name='inner') if l_1_inner is missing else l_1_inner))),
                str(l_1_pad),
                '    for j in range(',
                str((undefined(name='K') if l_1_K is missing else l_1_K)),
                '):\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'D',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
                '[r, j] = A',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
                '[r, j] * (D',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
                '[r, j] - dot) * dscale\n',
            ))
        else:
            pass
            t_12.extend((
                str(l_1_pad),
                '    for j in range(',
                str((undefined(name='K') if l_1_K is missing else l_1_K)),
                '):\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'yhat = A',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
                '[r, j]\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'y = YB[r, j]\n',
            ))
            if ('z' in environment.getattr(environment.getattr(l_1_plan, 'loss'), 'reads')):
                pass
                t_12.extend((
                    str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                    'z = Z',
                    str((undefined(name='L') if l_1_L is missing else l_1_L)),
                    '[r, j]\n',
                ))
            t_12.extend((
                str(context.call((undefined(name='lines') if l_0_lines is missing else l_0_lines), environment.getattr(environment.getattr(l_1_plan, 'loss'), 'value'), t_3((undefined(name='inner') if l_1_inner is missing else l_1_inner)))),
                '\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'total += value\n',
                str(context.call((undefined(name='lines') if l_0_lines is missing else l_0_lines), environment.getattr(environment.getattr(l_1_plan, 'loss'), 'delta'), t_3((undefined(name='inner') if l_1_inner is missing else l_1_inner)))),
                '\n',
                str((undefined(name='inner') if l_1_inner is missing else l_1_inner)),
                'D',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
                '[r, j] = delta * dscale\n',
                str(context.call((undefined(name='score_value') if l_0_score_value is missing else l_0_score_value), l_1_plan, (undefined(name='inner') if l_1_inner is missing else l_1_inner))),
            ))
        t_12.append(
            str(context.call((undefined(name='score_row') if l_0_score_row is missing else l_0_score_row), l_1_plan, 'end', str_join((l_1_pad, '    ', )))),
        )
        if (environment.getattr(environment.getattr(l_1_plan, 'loss'), 'mode') != 'softmax_ce'):
            pass
            t_12.extend((
                str(l_1_pad),
                'total /= ',
                str(environment.getattr(l_1_plan, 'units_scale')),
                '\n',
            ))
        t_12.extend((
            str(l_1_pad),
            'batch_loss = total',
        ))
        return concat(t_12)
    context.exported_vars.add('loss_delta')
    context.vars['loss_delta'] = l_0_loss_delta = Macro(environment, macro, 'loss_delta', ('plan', 'rows', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_part, l_1_pad):
        t_13 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_part is missing:
            l_1_part = undefined("parameter 'part' was not provided", name='part')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        if ((environment.getattr(l_1_plan, 'score_kind') == 'argmax') and (l_1_part == 'start')):
            pass
            t_13.extend((
                str(l_1_pad),
                'out_top = -math.inf\n',
                str(l_1_pad),
                'out_pick = 0\n',
                str(l_1_pad),
                'y_top = -math.inf\n',
                str(l_1_pad),
                'y_pick = 0\n',
            ))
        elif (environment.getattr(l_1_plan, 'score_kind') == 'argmax'):
            pass
            t_13.extend((
                str(l_1_pad),
                'if out_pick == y_pick:\n',
                str(l_1_pad),
                '    score_a += 1.0\n',
            ))
        return concat(t_13)
    context.exported_vars.add('score_row')
    context.vars['score_row'] = l_0_score_row = Macro(environment, macro, 'score_row', ('plan', 'part', 'pad'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_pad):
        t_14 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        if (environment.getattr(l_1_plan, 'score_kind') == 'argmax'):
            pass
            t_14.extend((
                str(l_1_pad),
                'if yhat > out_top:\n',
                str(l_1_pad),
                '    out_top = yhat\n',
                str(l_1_pad),
                '    out_pick = j\n',
                str(l_1_pad),
                'if y > y_top:\n',
                str(l_1_pad),
                '    y_top = y\n',
                str(l_1_pad),
                '    y_pick = j\n',
            ))
        elif (environment.getattr(l_1_plan, 'score_kind') == 'threshold'):
            pass
            t_14.extend((
                str(l_1_pad),
                'score_a += (yhat > 0.5) == (y > 0.5)  # no branch: a coin toss early in training\n',
            ))
        else:
            pass
            t_14.extend((
                str(l_1_pad),
                'score_error = np.float64(y) - np.float64(yhat)\n',
                str(l_1_pad),
                'score_a += abs(score_error)\n',
                str(l_1_pad),
                'score_b += score_error * score_error\n',
            ))
        return concat(t_14)
    context.exported_vars.add('score_value')
    context.vars['score_value'] = l_0_score_value = Macro(environment, macro, 'score_value', ('plan', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_rows, l_1_first, l_1_pad, l_1_base):
        t_15 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_rows is missing:
            l_1_rows = undefined("parameter 'rows' was not provided", name='rows')
        if l_1_first is missing:
            l_1_first = undefined("parameter 'first' was not provided", name='first')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_base is missing:
            l_1_base = ''
        pass
        t_15.extend((
            str(l_1_pad),
            'for r in range(',
            str(l_1_rows),
            '):\n',
            str(l_1_pad),
            '    for j in range(',
            str(environment.getattr(l_1_plan, 'n_out')),
            '):\n',
            str(l_1_pad),
            '        out[',
            str(l_1_base),
            'perm[',
            str(l_1_first),
            ' + r], j] = A',
            str(environment.getattr(environment.getitem(environment.getattr(l_1_plan, 'layers'), -1), 'index')),
            '[r, j]',
        ))
        return concat(t_15)
    context.exported_vars.add('keep_outputs')
    context.vars['keep_outputs'] = l_0_keep_outputs = Macro(environment, macro, 'keep_outputs', ('plan', 'rows', 'first', 'pad', 'base'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_layer, l_1_rows):
        t_16 = []
        l_1_inp = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_layer is missing:
            l_1_layer = undefined("parameter 'layer' was not provided", name='layer')
        if l_1_rows is missing:
            l_1_rows = undefined("parameter 'rows' was not provided", name='rows')
        pass
        l_1_inp = environment.getattr(l_1_layer, 'input')
        t_16.extend((
            str(environment.getattr(l_1_layer, 'forward_kernel')),
            '(',
            str((undefined(name='inp') if l_1_inp is missing else l_1_inp)),
            ', ',
            str(l_1_rows),
            ', ',
            str(environment.getattr(l_1_layer, 'weights_arg')),
            ', ',
            str(environment.getattr(l_1_layer, 'b')),
            ', ',
            str((('Z%d, ' % environment.getattr(l_1_layer, 'index')) if environment.getattr(l_1_layer, 'keep_z') else cond_expr_undefined("the inline if-expression on line 227 in 'macros.j2' evaluated to false and no else section was defined."))),
            'A',
            str(environment.getattr(l_1_layer, 'index')),
            str(context.call((undefined(name='tail') if l_0_tail is missing else l_0_tail), environment.getattr(environment.getattr(l_1_layer, 'act'), 'hyper'))),
            ')',
        ))
        return concat(t_16)
    context.exported_vars.add('forward_call')
    context.vars['forward_call'] = l_0_forward_call = Macro(environment, macro, 'forward_call', ('plan', 'layer', 'rows'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_rows, l_1_pad):
        t_17 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_rows is missing:
            l_1_rows = undefined("parameter 'rows' was not provided", name='rows')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        for l_2_layer in t_5(environment.getattr(l_1_plan, 'layers')):
            _loop_vars = {}
            pass
            t_17.append(
                str(context.call((undefined(name='layer_backward') if l_0_layer_backward is missing else l_0_layer_backward), l_1_plan, l_2_layer, l_1_rows, l_1_pad, _loop_vars=_loop_vars)),
            )
        l_2_layer = missing
        return concat(t_17)
    context.exported_vars.add('backward_calls')
    context.vars['backward_calls'] = l_0_backward_calls = Macro(environment, macro, 'backward_calls', ('plan', 'rows', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_layer, l_1_rows, l_1_pad):
        t_18 = []
        l_1_below = resolve('below')
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_layer is missing:
            l_1_layer = undefined("parameter 'layer' was not provided", name='layer')
        if l_1_rows is missing:
            l_1_rows = undefined("parameter 'rows' was not provided", name='rows')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        if context.call(environment.getattr(l_1_plan, 'grad_delta'), l_1_layer):
            pass
            l_1_below = environment.getattr(l_1_layer, 'below')
            t_18.extend((
                str(l_1_pad),
                str(context.call(environment.getattr(l_1_plan, 'grad_delta'), l_1_layer)),
                '(',
                str(environment.getattr(l_1_layer, 'input')),
                ', D',
                str(environment.getattr(l_1_layer, 'index')),
                ', ',
                str(l_1_rows),
                ', d',
                str(environment.getattr(l_1_layer, 'weights_arg')),
                ', d',
                str(environment.getattr(l_1_layer, 'b')),
                ', ',
                str(environment.getattr(l_1_layer, 'weights_arg')),
                ', ',
                str((str_join((environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'slope_source'), ', ', )) if (environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'slope_source') != environment.getattr(l_1_layer, 'input')) else cond_expr_undefined("the inline if-expression on line 242 in 'macros.j2' evaluated to false and no else section was defined."))),
                'D',
                str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')),
                str(((', M%d' % environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')) if environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'has_dropout') else '')),
                str(context.call((undefined(name='tail') if l_0_tail is missing else l_0_tail), environment.getattr(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'act'), 'hyper'))),
                ')\n',
            ))
        else:
            pass
            t_18.extend((
                str(l_1_pad),
                'grad_',
                str(environment.getattr(l_1_layer, 'kernel_variant')),
                '(',
                str(environment.getattr(l_1_layer, 'input')),
                ', D',
                str(environment.getattr(l_1_layer, 'index')),
                ', ',
                str(l_1_rows),
                ', d',
                str(environment.getattr(l_1_layer, 'weights_arg')),
                ', d',
                str(environment.getattr(l_1_layer, 'b')),
                ')\n',
                str(context.call((undefined(name='delta_call') if l_0_delta_call is missing else l_0_delta_call), l_1_plan, l_1_layer, l_1_rows, l_1_pad)),
            ))
        return concat(t_18)
    context.exported_vars.add('layer_backward')
    context.vars['layer_backward'] = l_0_layer_backward = Macro(environment, macro, 'layer_backward', ('plan', 'layer', 'rows', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_layer, l_1_rows, l_1_pad):
        t_19 = []
        l_1_below = resolve('below')
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_layer is missing:
            l_1_layer = undefined("parameter 'layer' was not provided", name='layer')
        if l_1_rows is missing:
            l_1_rows = undefined("parameter 'rows' was not provided", name='rows')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        if environment.getattr(l_1_layer, 'below'):
            pass
            l_1_below = environment.getattr(l_1_layer, 'below')
            t_19.extend((
                str(l_1_pad),
                str(context.call(environment.getattr(l_1_plan, 'delta_kernel'), l_1_layer)),
                '(D',
                str(environment.getattr(l_1_layer, 'index')),
                ', ',
                str((str_join((environment.getattr(l_1_layer, 'W'), 'T', )) if context.call(environment.getattr(l_1_plan, 'keeps_transpose'), l_1_layer) else environment.getattr(l_1_layer, 'weights_arg'))),
                ', ',
                str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'slope_source')),
                ', D',
                str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')),
                ', ',
                str(l_1_rows),
                str(((', M%d' % environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')) if environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'has_dropout') else '')),
                str(context.call((undefined(name='tail') if l_0_tail is missing else l_0_tail), environment.getattr(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'act'), 'hyper'))),
                ')\n',
            ))
        return concat(t_19)
    context.exported_vars.add('delta_call')
    context.vars['delta_call'] = l_0_delta_call = Macro(environment, macro, 'delta_call', ('plan', 'layer', 'rows', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_rows, l_1_pad):
        t_20 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_rows is missing:
            l_1_rows = undefined("parameter 'rows' was not provided", name='rows')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        t_20.extend((
            str(l_1_pad),
            'step += 1\n',
        ))
        for l_2_layer in t_5(environment.getattr(l_1_plan, 'layers')):
            _loop_vars = {}
            pass
            t_20.extend((
                str(context.call((undefined(name='delta_call') if l_0_delta_call is missing else l_0_delta_call), l_1_plan, l_2_layer, l_1_rows, l_1_pad, _loop_vars=_loop_vars)),
                str(l_1_pad),
                'step_blas(',
                str(environment.getattr(l_2_layer, 'input')),
                ', D',
                str(environment.getattr(l_2_layer, 'index')),
                ', ',
                str(l_1_rows),
                ', ',
                str(environment.getattr(l_2_layer, 'W')),
                ', ',
                str(environment.getattr(l_2_layer, 'b')),
                ', d',
                str(environment.getattr(l_2_layer, 'b')),
                ', hp_lr)\n',
            ))
        l_2_layer = missing
        t_20.extend((
            str(l_1_pad),
            'nonfinite = 0.0\n',
            str(l_1_pad),
            'for p in range(',
            str(t_3(environment.getattr(l_1_plan, 'params'))),
            '):\n',
            str(l_1_pad),
            '    nonfinite += nonfinite_flat(flat_params[p])\n',
            str(l_1_pad),
            'if nonfinite != 0.0:  # NaN: a new parameter is not finite\n',
            str(l_1_pad),
            '    return flat, step, 2, loss_sum\n',
            str(context.call((undefined(name='refresh_transposes') if l_0_refresh_transposes is missing else l_0_refresh_transposes), l_1_plan, l_1_pad)),
        ))
        return concat(t_20)
    context.exported_vars.add('stepping_section')
    context.vars['stepping_section'] = l_0_stepping_section = Macro(environment, macro, 'stepping_section', ('plan', 'rows', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_pad):
        t_21 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        for l_2_layer in environment.getattr(l_1_plan, 'transposed'):
            _loop_vars = {}
            pass
            t_21.extend((
                str(l_1_pad),
                'transpose_',
                str(environment.getattr(l_1_plan, 'float_type')),
                '(',
                str(environment.getattr(l_2_layer, 'W')),
                ', ',
                str(environment.getattr(l_2_layer, 'W')),
                'T)\n',
            ))
        l_2_layer = missing
        return concat(t_21)
    context.exported_vars.add('refresh_transposes')
    context.vars['refresh_transposes'] = l_0_refresh_transposes = Macro(environment, macro, 'refresh_transposes', ('plan', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_squares, l_1_pad):
        t_22 = []
        if l_1_squares is missing:
            l_1_squares = undefined("parameter 'squares' was not provided", name='squares')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        t_22.extend((
            str(l_1_pad),
            'norm = math.sqrt(',
            str(l_1_squares),
            ')\n',
            str(l_1_pad),
            'if norm > clip_norm:\n',
            str(l_1_pad),
            '    scale = clip_norm / (norm + 1e-6)',
        ))
        return concat(t_22)
    context.exported_vars.add('clip_scale')
    context.vars['clip_scale'] = l_0_clip_scale = Macro(environment, macro, 'clip_scale', ('squares', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_weights, l_1_pad, l_1_grads):
        t_23 = []
        l_1_namespace = resolve('namespace')
        l_1_ns = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_weights is missing:
            l_1_weights = undefined("parameter 'weights' was not provided", name='weights')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_grads is missing:
            l_1_grads = True
        pass
        for l_2_param in l_1_weights:
            _loop_vars = {}
            pass
            t_23.extend((
                str(l_1_pad),
                str(l_2_param),
                '_flat = ',
                str(l_2_param),
                '.reshape(-1)\n',
            ))
            if l_1_grads:
                pass
                t_23.extend((
                    str(l_1_pad),
                    'd',
                    str(l_2_param),
                    '_flat = d',
                    str(l_2_param),
                    '.reshape(-1)\n',
                ))
            for l_3_st in environment.getattr(environment.getattr(l_1_plan, 'update'), 'state'):
                _loop_vars = {}
                pass
                t_23.extend((
                    str(l_1_pad),
                    str(l_3_st),
                    '_',
                    str(l_2_param),
                    '_flat = ',
                    str(l_3_st),
                    '_',
                    str(l_2_param),
                    '.reshape(-1)\n',
                ))
            l_3_st = missing
        l_2_param = missing
        l_1_ns = context.call((undefined(name='namespace') if l_1_namespace is missing else l_1_namespace), groups=[('flat_params', '')])
        if l_1_grads:
            pass
            if not isinstance(l_1_ns, Namespace):
                raise TemplateRuntimeError("cannot assign attribute on non-namespace object")
            l_1_ns['groups'] = (environment.getattr((undefined(name='ns') if l_1_ns is missing else l_1_ns), 'groups') + [('flat_grads', 'd')])
        for l_2_st in environment.getattr(environment.getattr(l_1_plan, 'update'), 'state'):
            _loop_vars = {}
            pass
            if not isinstance(l_1_ns, Namespace):
                raise TemplateRuntimeError("cannot assign attribute on non-namespace object")
            l_1_ns['groups'] = (environment.getattr((undefined(name='ns') if l_1_ns is missing else l_1_ns), 'groups') + [(str_join(('flat_', l_2_st, )), str_join((l_2_st, '_', )))])
        l_2_st = missing
        l_2_loop = missing
        for (l_2_name, l_2_prefix), l_2_loop in LoopContext(environment.getattr((undefined(name='ns') if l_1_ns is missing else l_1_ns), 'groups'), undefined):
            _loop_vars = {}
            pass
            t_23.extend((
                str(l_1_pad),
                str(l_2_name),
                ' = (',
            ))
            l_3_loop = missing
            for l_3_p, l_3_loop in LoopContext(environment.getattr(l_1_plan, 'params'), undefined):
                _loop_vars = {}
                pass
                t_23.extend((
                    str((', ' if (not environment.getattr(l_3_loop, 'first')) else cond_expr_undefined("the inline if-expression on line 310 in 'macros.j2' evaluated to false and no else section was defined."))),
                    str(l_2_prefix),
                    str(l_3_p),
                    str(('_flat' if (l_3_p in l_1_weights) else cond_expr_undefined("the inline if-expression on line 310 in 'macros.j2' evaluated to false and no else section was defined."))),
                ))
            l_3_loop = l_3_p = missing
            t_23.extend((
                str((',' if (t_3(environment.getattr(l_1_plan, 'params')) == 1) else cond_expr_undefined("the inline if-expression on line 310 in 'macros.j2' evaluated to false and no else section was defined."))),
                ')\n',
            ))
        l_2_loop = l_2_name = l_2_prefix = missing
        return concat(t_23)
    context.exported_vars.add('update_views')
    context.vars['update_views'] = l_0_update_views = Macro(environment, macro, 'update_views', ('plan', 'weights', 'pad', 'grads'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan):
        t_24 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        t_24.append(
            str(context.call((undefined(name='tail') if l_0_tail is missing else l_0_tail), environment.getattr(environment.getattr(l_1_plan, 'update'), 'hyper'))),
        )
        for l_2_c in environment.getattr(environment.getattr(l_1_plan, 'update'), 'invariant'):
            _loop_vars = {}
            pass
            t_24.extend((
                ', ',
                str(environment.getitem(l_2_c, 0)),
            ))
        l_2_c = missing
        return concat(t_24)
    context.exported_vars.add('update_tail')
    context.vars['update_tail'] = l_0_update_tail = Macro(environment, macro, 'update_tail', ('plan',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_pad):
        t_25 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        for l_2_c in environment.getattr(environment.getattr(l_1_plan, 'update'), 'invariant'):
            _loop_vars = {}
            pass
            t_25.extend((
                str(l_1_pad),
                str(environment.getitem(l_2_c, 0)),
                ' = ',
                str(environment.getitem(l_2_c, 1)),
                '\n',
            ))
        l_2_c = missing
        return concat(t_25)
    context.exported_vars.add('invariant_lines')
    context.vars['invariant_lines'] = l_0_invariant_lines = Macro(environment, macro, 'invariant_lines', ('plan', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_weights, l_1_pad):
        t_26 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_weights is missing:
            l_1_weights = undefined("parameter 'weights' was not provided", name='weights')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        t_26.extend((
            str(l_1_pad),
            'step += 1\n',
            str(l_1_pad),
            'scale = 1.0\n',
            str(l_1_pad),
            'if clip_norm > 0.0:\n',
            str(l_1_pad),
            '    squares = 0.0\n',
            str(l_1_pad),
            '    for p in range(',
            str(t_3(environment.getattr(l_1_plan, 'params'))),
            '):\n',
            str(l_1_pad),
            '        squares += sum_of_squares(flat_grads[p])\n',
            str(context.call((undefined(name='clip_scale') if l_0_clip_scale is missing else l_0_clip_scale), 'squares', str_join((l_1_pad, '    ', )))),
            '\n',
            str(context.call((undefined(name='invariant_lines') if l_0_invariant_lines is missing else l_0_invariant_lines), l_1_plan, l_1_pad)),
            str(l_1_pad),
            'nonfinite = 0.0\n',
            str(l_1_pad),
            'for p in range(',
            str(t_3(environment.getattr(l_1_plan, 'params'))),
            "):  # each tensor (update_views' tuples)\n",
            str(l_1_pad),
            '    nonfinite += update_flat(flat_params[p], flat_grads[p]',
        ))
        for l_2_s in environment.getattr(environment.getattr(l_1_plan, 'update'), 'state'):
            _loop_vars = {}
            pass
            t_26.extend((
                ', flat_',
                str(l_2_s),
                '[p]',
            ))
        l_2_s = missing
        t_26.extend((
            ', scale',
            str(context.call((undefined(name='update_tail') if l_0_update_tail is missing else l_0_update_tail), l_1_plan)),
            ')\n',
            str(l_1_pad),
            'if nonfinite != 0.0:  # NaN: a new parameter or state value is not finite\n',
            str(l_1_pad),
            '    return flat, step, 2, loss_sum\n',
            str(context.call((undefined(name='refresh_transposes') if l_0_refresh_transposes is missing else l_0_refresh_transposes), l_1_plan, l_1_pad)),
        ))
        return concat(t_26)
    context.exported_vars.add('update_section')
    context.vars['update_section'] = l_0_update_section = Macro(environment, macro, 'update_section', ('plan', 'weights', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_target):
        t_27 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_target is missing:
            l_1_target = undefined("parameter 'target' was not provided", name='target')
        pass
        t_27.extend((
            'Usage (this file needs only numpy, numba and math',
            str((', numba-cuda' if (l_1_target == 'cuda') else cond_expr_undefined("the inline if-expression on line 351 in 'macros.j2' evaluated to false and no else section was defined."))),
            '): every array ',
            str(environment.getattr(l_1_plan, 'float_type')),
            ', C order.\n\n    import numpy as np\n    import network                      # this file, on the path\n    params = [',
            str(context.call((undefined(name='args') if l_0_args is missing else l_0_args), environment.getattr(l_1_plan, 'params'))),
            ']\n    #   shapes ',
            str(context.call((undefined(name='shapes') if l_0_shapes is missing else l_0_shapes), environment.getattr(l_1_plan, 'param_layout'))),
            '\n    #   (W of shape (n_in, n_out): Z = X @ W + b)\n',
        ))
        if environment.getattr(l_1_plan, 'persistent'):
            pass
            t_27.extend((
                '    running = [',
                str(t_2(context.eval_ctx, environment.getattr(l_1_plan, 'persistent'), ', ')),
                "]   # batch normalization's running mean\n    #   and variance: zeros and ones at the start, updated by train_epoch\n",
            ))
        t_27.extend((
            '    state = [np.zeros_like(p) for p in params for _ in network.OPTIMIZER_STATE]\n    X = ...                             # (rows, ',
            str(environment.getattr(l_1_plan, 'n_in')),
            ')\n    Y = ...                             # (rows, ',
            str(environment.getattr(l_1_plan, 'n_out')),
            '): ',
            str(context.call(environment.getattr({'ce': 'one-hot classes', 'bce': '0/1'}, 'get'), environment.getattr(l_1_plan, 'loss_name'), 'the targets')),
            "\n    batch_size, step = 32, 0                       # step: updates so far\n    perm = np.random.permutation(len(X))           # the epoch's row order\n    losses = np.empty(-(-len(X) // batch_size))    # each batch's mean loss\n    batches, step, status = network.train_epoch(\n        X, Y, perm, batch_size, step, 0.0, losses, *params,",
            str((' *running,' if environment.getattr(l_1_plan, 'persistent') else cond_expr_undefined("the inline if-expression on line 369 in 'macros.j2' evaluated to false and no else section was defined."))),
            ' *state,\n        ',
            str(t_2(context.eval_ctx, ((environment.getattr(l_1_plan, 'model_hyper') + environment.getattr(environment.getattr(l_1_plan, 'update'), 'hyper')) + environment.getattr(l_1_plan, 'dropout_args')), ', ')),
            ")\n    # Adam's bias correction counts step; 0.0: no gradient clipping (else the largest\n    # global gradient norm).\n    # status 0: the epoch ran; 1: batch number `batches` had a non-finite loss and was\n    # not applied; 2: its update made a weight or state value non-finite.\n    # Hyperparameters: ",
            str((t_2(context.eval_ctx, ((environment.getattr(l_1_plan, 'model_hyper') + environment.getattr(environment.getattr(l_1_plan, 'update'), 'hyper')) + environment.getattr(l_1_plan, 'dropout_args')), ', ') or 'none')),
            '\n    out = np.empty((len(X), ',
            str(environment.getattr(l_1_plan, 'n_out')),
            '), X.dtype)\n    mean_loss = network.evaluate(X, Y, out, True, 1024, *params',
            str((', *running' if environment.getattr(l_1_plan, 'persistent') else cond_expr_undefined("the inline if-expression on line 377 in 'macros.j2' evaluated to false and no else section was defined."))),
            str(context.call((undefined(name='tail') if l_0_tail is missing else l_0_tail), (environment.getattr(l_1_plan, 'model_hyper') + environment.getattr(l_1_plan, 'dropout_args')))),
            ')',
        ))
        return concat(t_27)
    context.exported_vars.add('usage')
    context.vars['usage'] = l_0_usage = Macro(environment, macro, 'usage', ('plan', 'target'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_layout):
        t_28 = []
        if l_1_layout is missing:
            l_1_layout = undefined("parameter 'layout' was not provided", name='layout')
        pass
        l_2_loop = missing
        for (l_2_name, l_2__, l_2__, l_2_shape), l_2_loop in LoopContext(l_1_layout, undefined):
            _loop_vars = {}
            pass
            t_28.extend((
                str(l_2_name),
                ' ',
                str(l_2_shape),
                str((', ' if (not environment.getattr(l_2_loop, 'last')) else cond_expr_undefined("the inline if-expression on line 381 in 'macros.j2' evaluated to false and no else section was defined."))),
            ))
        l_2_loop = l_2_name = l_2__ = l_2_shape = missing
        return concat(t_28)
    context.exported_vars.add('shapes')
    context.vars['shapes'] = l_0_shapes = Macro(environment, macro, 'shapes', ('layout',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_first, l_1_count, l_1_pad, l_1_y_test):
        t_29 = []
        l_1_ahead = l_1_y_pad = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_first is missing:
            l_1_first = undefined("parameter 'first' was not provided", name='first')
        if l_1_count is missing:
            l_1_count = undefined("parameter 'count' was not provided", name='count')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_y_test is missing:
            l_1_y_test = 'mode != PREDICT'
        pass
        l_1_ahead = environment.getattr(l_1_plan, 'prefetch')
        t_29.extend((
            str(l_1_pad),
            'ahead_end = ',
            str(l_1_first),
            ' + (',
            str(l_1_count),
            ' if ',
            str(l_1_count),
            ' < ',
            str(environment.getattr((undefined(name='ahead') if l_1_ahead is missing else l_1_ahead), 'rows')),
            ' else ',
            str(environment.getattr((undefined(name='ahead') if l_1_ahead is missing else l_1_ahead), 'rows')),
            ')\n',
            str(l_1_pad),
            "# selects, not min(): Numba would compile min's overload (0.1-0.2 s of a cold start)\n",
            str(l_1_pad),
            'ahead_end = ahead_end if ahead_end < perm.shape[0] else perm.shape[0]\n',
            str(l_1_pad),
            'for i in range(',
            str(l_1_first),
            ', ahead_end):\n',
            str(l_1_pad),
            '    ahead = perm[i]\n',
        ))
        for l_2_column in environment.getattr((undefined(name='ahead') if l_1_ahead is missing else l_1_ahead), 'x'):
            _loop_vars = {}
            pass
            t_29.extend((
                str(l_1_pad),
                '    prefetch(X, ahead, ',
                str(l_2_column),
                ')\n',
            ))
        l_2_column = missing
        l_1_y_pad = str_join((l_1_pad, ('        ' if l_1_y_test else '    '), ))
        if l_1_y_test:
            pass
            t_29.extend((
                str(l_1_pad),
                '    if ',
                str(l_1_y_test),
                ':\n',
            ))
        for l_2_column in environment.getattr((undefined(name='ahead') if l_1_ahead is missing else l_1_ahead), 'y'):
            _loop_vars = {}
            pass
            t_29.extend((
                str((undefined(name='y_pad') if l_1_y_pad is missing else l_1_y_pad)),
                'prefetch(Y, ahead, ',
                str(l_2_column),
                ')\n',
            ))
        l_2_column = missing
        return concat(t_29)
    context.exported_vars.add('prefetch_rows')
    context.vars['prefetch_rows'] = l_0_prefetch_rows = Macro(environment, macro, 'prefetch_rows', ('plan', 'first', 'count', 'pad', 'y_test'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_first, l_1_rows, l_1_pad, l_1_y_test):
        t_30 = []
        l_1_whole = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_first is missing:
            l_1_first = undefined("parameter 'first' was not provided", name='first')
        if l_1_rows is missing:
            l_1_rows = undefined("parameter 'rows' was not provided", name='rows')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_y_test is missing:
            l_1_y_test = None
        pass
        l_1_whole = (environment.getattr(l_1_plan, 'n_in') in (undefined(name='ROW_TUPLE_COLUMNS') if l_0_ROW_TUPLE_COLUMNS is missing else l_0_ROW_TUPLE_COLUMNS))
        t_30.extend((
            str(l_1_pad),
            'inputs_check = np.',
            str(environment.getattr(l_1_plan, 'float_type')),
            '(0.0)  # NaN where an input is NaN or inf (value * 0)\n',
            str(l_1_pad),
            'for r in range(',
            str(l_1_rows),
            '):\n',
            str(l_1_pad),
            '    src = perm[',
            str(l_1_first),
            ' + r]\n',
            str(context.call(environment.getattr(context.call((undefined(name='copy_row') if l_0_copy_row is missing else l_0_copy_row), l_1_plan, 'XB', 'X', environment.getattr(l_1_plan, 'n_in'), str_join((l_1_pad, '    ', )), ('' if (undefined(name='whole') if l_1_whole is missing else l_1_whole) else 'inputs_check')), 'rstrip'))),
            '\n',
        ))
        if l_1_y_test:
            pass
            t_30.extend((
                str(l_1_pad),
                '    if ',
                str(l_1_y_test),
                ':\n',
            ))
        t_30.extend((
            str(context.call(environment.getattr(context.call((undefined(name='copy_row') if l_0_copy_row is missing else l_0_copy_row), l_1_plan, 'YB', 'Y', environment.getattr(l_1_plan, 'n_out'), str_join((l_1_pad, ('        ' if l_1_y_test else '    '), )), ''), 'rstrip'))),
            '\n',
        ))
        if (undefined(name='whole') if l_1_whole is missing else l_1_whole):
            pass
            t_30.extend((
                str(l_1_pad),
                'for i in range(',
                str(l_1_rows),
                ' * ',
                str(environment.getattr(l_1_plan, 'n_in')),
                '):  # the rows just written, read flat\n',
                str(l_1_pad),
                '    inputs_check += XB_flat[i] * np.',
                str(environment.getattr(l_1_plan, 'float_type')),
                '(0.0)\n',
            ))
        return concat(t_30)
    context.exported_vars.add('gather_rows')
    context.vars['gather_rows'] = l_0_gather_rows = Macro(environment, macro, 'gather_rows', ('plan', 'first', 'rows', 'pad', 'y_test'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_dst, l_1_source, l_1_width, l_1_pad, l_1_check):
        t_31 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_dst is missing:
            l_1_dst = undefined("parameter 'dst' was not provided", name='dst')
        if l_1_source is missing:
            l_1_source = undefined("parameter 'source' was not provided", name='source')
        if l_1_width is missing:
            l_1_width = undefined("parameter 'width' was not provided", name='width')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_check is missing:
            l_1_check = undefined("parameter 'check' was not provided", name='check')
        pass
        if (l_1_width in (undefined(name='ROW_TUPLE_COLUMNS') if l_0_ROW_TUPLE_COLUMNS is missing else l_0_ROW_TUPLE_COLUMNS)):
            pass
            l_2_loop = missing
            for l_2_chunk, l_2_loop in LoopContext(t_1(context.call((undefined(name='range') if l_0_range is missing else l_0_range), l_1_width), 8), undefined):
                _loop_vars = {}
                pass
                if (t_3(l_2_chunk) == 1):
                    pass
                    t_31.extend((
                        str(l_1_pad),
                        str(l_1_dst),
                        '[r, ',
                        str(environment.getitem(l_2_chunk, 0)),
                        '] = ',
                        str(l_1_source),
                        '[src, ',
                        str(environment.getitem(l_2_chunk, 0)),
                        ']\n',
                    ))
                else:
                    pass
                    t_31.append(
                        str(l_1_pad),
                    )
                    l_3_loop = missing
                    for l_3_k, l_3_loop in LoopContext(l_2_chunk, undefined):
                        _loop_vars = {}
                        pass
                        t_31.extend((
                            str(l_1_dst),
                            '[r, ',
                            str(l_3_k),
                            ']',
                            str((', ' if (not environment.getattr(l_3_loop, 'last')) else cond_expr_undefined("the inline if-expression on line 444 in 'macros.j2' evaluated to false and no else section was defined."))),
                        ))
                    l_3_loop = l_3_k = missing
                    t_31.extend((
                        ' = (\n',
                        str(l_1_pad),
                        '    ',
                    ))
                    l_3_loop = missing
                    for l_3_k, l_3_loop in LoopContext(l_2_chunk, undefined):
                        _loop_vars = {}
                        pass
                        t_31.extend((
                            str(l_1_source),
                            '[src, ',
                            str(l_3_k),
                            ']',
                            str((', ' if (not environment.getattr(l_3_loop, 'last')) else cond_expr_undefined("the inline if-expression on line 445 in 'macros.j2' evaluated to false and no else section was defined."))),
                        ))
                    l_3_loop = l_3_k = missing
                    t_31.append(
                        ')\n',
                    )
            l_2_loop = l_2_chunk = missing
        elif (l_1_width == 1):
            pass
            t_31.extend((
                str(l_1_pad),
                str(l_1_dst),
                '[r, 0] = ',
                str(l_1_source),
                '[src, 0]\n',
            ))
            if l_1_check:
                pass
                t_31.extend((
                    str(l_1_pad),
                    str(l_1_check),
                    ' += ',
                    str(l_1_source),
                    '[src, 0] * np.',
                    str(environment.getattr(l_1_plan, 'float_type')),
                    '(0.0)\n',
                ))
        else:
            pass
            t_31.extend((
                str(l_1_pad),
                'for k in range(',
                str(l_1_width),
                '):\n',
                str(l_1_pad),
                '    ',
                str(l_1_dst),
                '[r, k] = ',
                str(l_1_source),
                '[src, k]\n',
            ))
            if l_1_check:
                pass
                t_31.extend((
                    str(l_1_pad),
                    '    ',
                    str(l_1_check),
                    ' += ',
                    str(l_1_source),
                    '[src, k] * np.',
                    str(environment.getattr(l_1_plan, 'float_type')),
                    '(0.0)\n',
                ))
        return concat(t_31)
    context.exported_vars.add('copy_row')
    context.vars['copy_row'] = l_0_copy_row = Macro(environment, macro, 'copy_row', ('plan', 'dst', 'source', 'width', 'pad', 'check'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_rows, l_1_pad):
        t_32 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_rows is missing:
            l_1_rows = undefined("parameter 'rows' was not provided", name='rows')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        t_32.extend((
            str(l_1_pad),
            'inputs_finite = True\n',
            str(l_1_pad),
            'if inputs_check != 0.0:\n',
            str(l_1_pad),
            '    for r in range(',
            str(l_1_rows),
            '):\n',
            str(l_1_pad),
            '        for k in range(',
            str(environment.getattr(l_1_plan, 'n_in')),
            '):\n',
            str(l_1_pad),
            '            if not abs(XB[r, k]) < math.inf:\n',
            str(l_1_pad),
            '                inputs_finite = False',
        ))
        return concat(t_32)
    context.exported_vars.add('confirm_inputs')
    context.vars['confirm_inputs'] = l_0_confirm_inputs = Macro(environment, macro, 'confirm_inputs', ('plan', 'rows', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_first, l_1_rows, l_1_ahead, l_1_pad, l_1_y_test):
        t_33 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_first is missing:
            l_1_first = undefined("parameter 'first' was not provided", name='first')
        if l_1_rows is missing:
            l_1_rows = undefined("parameter 'rows' was not provided", name='rows')
        if l_1_ahead is missing:
            l_1_ahead = undefined("parameter 'ahead' was not provided", name='ahead')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_y_test is missing:
            l_1_y_test = undefined("parameter 'y_test' was not provided", name='y_test')
        pass
        t_33.extend((
            str(context.call(environment.getattr(context.call((undefined(name='gather_rows') if l_0_gather_rows is missing else l_0_gather_rows), l_1_plan, l_1_first, l_1_rows, l_1_pad, l_1_y_test), 'rstrip'))),
            '\n',
        ))
        if environment.getattr(l_1_plan, 'prefetch'):
            pass
            t_33.extend((
                str(context.call(environment.getattr(context.call((undefined(name='prefetch_rows') if l_0_prefetch_rows is missing else l_0_prefetch_rows), l_1_plan, str_join((l_1_first, ' + ', l_1_rows, )), l_1_ahead, l_1_pad, l_1_y_test), 'rstrip'))),
                '\n',
            ))
        t_33.append(
            str(context.call((undefined(name='confirm_inputs') if l_0_confirm_inputs is missing else l_0_confirm_inputs), l_1_plan, l_1_rows, l_1_pad)),
        )
        return concat(t_33)
    context.exported_vars.add('batch_in')
    context.vars['batch_in'] = l_0_batch_in = Macro(environment, macro, 'batch_in', ('plan', 'first', 'rows', 'ahead', 'pad', 'y_test'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_pad, l_1_rows, l_1_cols, l_1_index, l_1_targets, l_1_terms):
        t_34 = []
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_rows is missing:
            l_1_rows = undefined("parameter 'rows' was not provided", name='rows')
        if l_1_cols is missing:
            l_1_cols = undefined("parameter 'cols' was not provided", name='cols')
        if l_1_index is missing:
            l_1_index = undefined("parameter 'index' was not provided", name='index')
        if l_1_targets is missing:
            l_1_targets = undefined("parameter 'targets' was not provided", name='targets')
        if l_1_terms is missing:
            l_1_terms = undefined("parameter 'terms' was not provided", name='terms')
        pass
        t_34.extend((
            str(l_1_pad),
            'rows_by_4 = ',
            str(l_1_rows),
            ' - ',
            str(l_1_rows),
            ' % 4\n',
            str(l_1_pad),
            'for r in range(0, rows_by_4, 4):\n',
            str(l_1_pad),
            '    for ',
            str(l_1_index),
            ' in range(',
            str(l_1_cols),
            '):\n',
        ))
        l_2_loop = missing
        for l_2_target, l_2_loop in LoopContext(l_1_targets, undefined):
            l_2_term = missing
            _loop_vars = {}
            pass
            l_2_term = environment.getitem(l_1_terms, environment.getattr(l_2_loop, 'index0'))
            _loop_vars['term'] = l_2_term
            t_34.extend((
                str(l_1_pad),
                '        ',
                str(l_2_target),
                '[',
                str(l_1_index),
                '] += (',
                str(t_4(context.eval_ctx, (undefined(name='term') if l_2_term is missing else l_2_term), '@', 'r')),
                ' + ',
                str(t_4(context.eval_ctx, (undefined(name='term') if l_2_term is missing else l_2_term), '@', 'r + 1')),
                ') + (',
                str(t_4(context.eval_ctx, (undefined(name='term') if l_2_term is missing else l_2_term), '@', 'r + 2')),
                ' + ',
                str(t_4(context.eval_ctx, (undefined(name='term') if l_2_term is missing else l_2_term), '@', 'r + 3')),
                ')\n',
            ))
        l_2_loop = l_2_target = l_2_term = missing
        t_34.extend((
            str(l_1_pad),
            'for r in range(rows_by_4, ',
            str(l_1_rows),
            '):\n',
            str(l_1_pad),
            '    for ',
            str(l_1_index),
            ' in range(',
            str(l_1_cols),
            '):\n',
        ))
        l_2_loop = missing
        for l_2_target, l_2_loop in LoopContext(l_1_targets, undefined):
            _loop_vars = {}
            pass
            t_34.extend((
                str(l_1_pad),
                '        ',
                str(l_2_target),
                '[',
                str(l_1_index),
                '] += ',
                str(t_4(context.eval_ctx, environment.getitem(l_1_terms, environment.getattr(l_2_loop, 'index0')), '@', 'r')),
                str(('\n' if (not environment.getattr(l_2_loop, 'last')) else cond_expr_undefined("the inline if-expression on line 508 in 'macros.j2' evaluated to false and no else section was defined."))),
            ))
        l_2_loop = l_2_target = missing
        return concat(t_34)
    context.exported_vars.add('column_sums')
    context.vars['column_sums'] = l_0_column_sums = Macro(environment, macro, 'column_sums', ('pad', 'rows', 'cols', 'index', 'targets', 'terms'), False, False, False, context.eval_ctx.autoescape)
    def macro():
        t_35 = []
        pass
        t_35.append(
            "        sense = 0\n        n = perm.shape[0] // epochs  # an epoch's rows\n        batches = (n + batch_size - 1) // batch_size  # an epoch's\n        done = epochs * batches\n        status = 0\n        step = first_step  # each thread counts the steps it takes part in\n        loss_sum = 0.0\n        clipping = clip_norm > 0.0  # bools, not literals: one compiled signature\n        scoring = batch_scores.shape[0] > 0\n        for flat in range(epochs * batches):  # epoch after epoch, batch after batch\n            epoch = flat // batches\n            bi = flat - epoch * batches\n            start = epoch * n + bi * batch_size\n            rest = n - bi * batch_size\n            nb = rest if rest < batch_size else batch_size  # the last may be short",
        )
        return concat(t_35)
    context.exported_vars.add('thread_batches')
    context.vars['thread_batches'] = l_0_thread_batches = Macro(environment, macro, 'thread_batches', (), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_pad):
        t_36 = []
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        t_36.extend((
            str(l_1_pad),
            'results[0] = done\n',
            str(l_1_pad),
            'results[1] = step\n',
            str(l_1_pad),
            'results[2] = status\n',
            str(l_1_pad),
            'results[3] = loss_sum',
        ))
        return concat(t_36)
    context.exported_vars.add('thread_results')
    context.vars['thread_results'] = l_0_thread_results = Macro(environment, macro, 'thread_results', ('pad',), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '4=43&6=47&7=53&10=59&11=64&14=76&15=85&18=94&19=102&20=106&24=117&25=126&26=129&28=135&32=137&38=139&41=141&54=147&55=154&68=157&69=162&74=170&98=172&109=174&129=180&130=190&131=191&132=192&133=194&134=200&135=202&136=204&137=206&138=212&139=214&140=217&141=221&142=225&143=227&144=231&145=235&146=237&147=240&148=242&149=246&150=250&151=252&152=254&153=256&154=258&155=262&156=264&157=265&158=269&160=281&161=285&162=289&163=292&164=295&166=301&167=303&168=305&169=307&170=311&172=314&173=316&174=319&176=325&185=331&186=340&187=343&188=345&189=347&190=349&191=352&192=355&193=357&197=364&198=371&199=374&200=376&201=378&202=380&203=382&204=384&205=387&206=390&208=396&209=398&210=400&218=406&219=420&220=424&221=428&225=440&226=450&227=452&232=471&233=480&234=484&239=490&240=502&241=504&242=506&244=531&245=545&250=550&251=562&252=564&253=566&261=585&262=595&263=598&264=602&265=603&267=620&268=622&269=626&270=628&271=630&272=632&276=637&277=644&278=648&284=661&285=669&286=673&287=675&296=681&297=694&298=698&299=704&300=707&302=714&303=718&306=730&307=731&308=736&309=744&310=748&316=771&317=777&320=791&321=798&322=802&330=812&331=822&332=824&333=826&334=828&335=830&336=834&337=836&338=838&339=839&340=841&341=845&342=861&343=863&344=865&350=870&351=879&355=883&356=885&358=888&359=892&363=897&364=899&369=903&370=905&375=907&376=909&377=911&380=919&381=925&389=938&390=952&391=954&392=966&393=968&394=970&395=974&396=977&397=981&399=987&400=988&401=991&403=996&404=1000&412=1009&413=1023&414=1025&415=1029&416=1033&417=1037&418=1040&419=1043&421=1049&422=1052&423=1055&424=1061&438=1069&439=1084&440=1087&441=1090&442=1093&444=1106&445=1122&448=1141&449=1144&450=1150&451=1153&454=1164&455=1168&456=1175&457=1178&467=1190&468=1200&469=1202&470=1204&471=1208&472=1212&473=1214&479=1220&480=1236&481=1239&482=1242&484=1246&497=1251&498=1267&499=1273&500=1275&501=1283&502=1287&503=1290&505=1307&506=1311&507=1319&508=1323&515=1336&534=1345&535=1351&536=1353&537=1355&538=1357'