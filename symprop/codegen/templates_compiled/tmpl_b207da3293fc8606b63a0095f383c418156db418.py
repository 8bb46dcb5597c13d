from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'shards.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_m = l_0_b = l_0_views = l_0_gather = l_0_shared = l_0_share_scores = l_0_stage_item = l_0_share_pass = l_0_share_update = l_0_stage_reduce = l_0_thread_epoch = missing
    try:
        t_1 = environment.filters['indent']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'indent' found.")
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
        t_4 = environment.filters['list']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No filter named 'list' found.")
    try:
        t_5 = environment.filters['map']
    except KeyError:
        @internalcode
        def t_5(*unused):
            raise TemplateRuntimeError("No filter named 'map' found.")
    try:
        t_6 = environment.filters['selectattr']
    except KeyError:
        @internalcode
        def t_6(*unused):
            raise TemplateRuntimeError("No filter named 'selectattr' found.")
    pass
    l_0_m = context.vars['m'] = environment.get_template('macros.j2', 'shards.j2')._get_default_module(context)
    context.exported_vars.discard('m')
    l_0_b = context.vars['b'] = environment.get_template('blocks.j2', 'shards.j2')._get_default_module(context)
    context.exported_vars.discard('b')
    def macro(l_1_plan, l_1_work, l_1_row_floats, l_1_weights, l_1_narrow, l_1_staged):
        t_7 = []
        l_1_namespace = resolve('namespace')
        l_1_ns = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_work is missing:
            l_1_work = undefined("parameter 'work' was not provided", name='work')
        if l_1_row_floats is missing:
            l_1_row_floats = undefined("parameter 'row_floats' was not provided", name='row_floats')
        if l_1_weights is missing:
            l_1_weights = undefined("parameter 'weights' was not provided", name='weights')
        if l_1_narrow is missing:
            l_1_narrow = undefined("parameter 'narrow' was not provided", name='narrow')
        if l_1_staged is missing:
            l_1_staged = False
        pass
        t_7.extend((
            '    rows = hi - lo\n    cap = (work_row.shape[0] - ',
            str((environment.getattr(l_1_plan, 'transposed_floats') + environment.getattr(l_1_plan, 'stats_floats'))),
            ') // ',
            str(l_1_row_floats),
            '\n',
        ))
        l_1_ns = context.call((undefined(name='namespace') if l_1_namespace is missing else l_1_namespace), offset=0)
        for l_2_layer in environment.getattr(l_1_plan, 'transposed'):
            _loop_vars = {}
            pass
            t_7.extend((
                "    # this thread's own copy of W",
                str(environment.getattr(l_2_layer, 'index')),
                '^T, made from the weights it is about to read anyway\n    ',
                str(environment.getattr(l_2_layer, 'W')),
                'T = rows_view(work_row, ',
                str(l_1_row_floats),
                ' * cap + ',
                str(environment.getattr((undefined(name='ns') if l_1_ns is missing else l_1_ns), 'offset')),
                ', ',
                str(environment.getattr(l_2_layer, 'n_out')),
                ', ',
                str(environment.getattr(l_2_layer, 'n_in')),
                ')\n',
            ))
            if l_1_staged:
                pass
                t_7.extend((
                    '    if stage == 0:\n        transpose_',
                    str(environment.getattr(l_1_plan, 'float_type')),
                    '(',
                    str(environment.getattr(l_2_layer, 'W')),
                    ', ',
                    str(environment.getattr(l_2_layer, 'W')),
                    'T)\n',
                ))
            else:
                pass
                t_7.extend((
                    '    transpose_',
                    str(environment.getattr(l_1_plan, 'float_type')),
                    '(',
                    str(environment.getattr(l_2_layer, 'W')),
                    ', ',
                    str(environment.getattr(l_2_layer, 'W')),
                    'T)\n',
                ))
            if not isinstance(l_1_ns, Namespace):
                raise TemplateRuntimeError("cannot assign attribute on non-namespace object")
            l_1_ns['offset'] = (environment.getattr((undefined(name='ns') if l_1_ns is missing else l_1_ns), 'offset') + (environment.getattr(l_2_layer, 'n_in') * environment.getattr(l_2_layer, 'n_out')))
        l_2_layer = missing
        t_7.append(
            "    # each buffer's first `rows` rows (of the cap it has room for)\n",
        )
        for (l_2_name, l_2_offset, l_2_width) in l_1_work:
            l_2_start = missing
            _loop_vars = {}
            pass
            l_2_start = (str_join((l_2_offset, ' * cap', )) if l_2_offset else '0')
            _loop_vars['start'] = l_2_start
            t_7.extend((
                '    ',
                str(l_2_name),
                ' = rows_view(work_row, ',
                str((undefined(name='start') if l_2_start is missing else l_2_start)),
                ', rows, ',
                str(l_2_width),
                ')\n',
            ))
            if ((l_2_name == 'XB') and (l_2_width in environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'ROW_TUPLE_COLUMNS'))):
                pass
                t_7.extend((
                    '    XB_flat = work_row[:rows * ',
                    str(l_2_width),
                    "]  # for the gather's inputs_check\n",
                ))
        l_2_name = l_2_offset = l_2_width = l_2_start = missing
        for (l_2_name, l_2_offset, l_2_size, l_2_shape) in environment.getattr(l_1_plan, 'param_layout'):
            _loop_vars = {}
            pass
            if (l_2_name in l_1_weights):
                pass
                t_7.extend((
                    '    d',
                    str(l_2_name),
                    ' = rows_view(grad_row, ',
                    str(l_2_offset),
                    ', ',
                    str(l_2_shape[1:-1]),
                    ')\n',
                ))
            if ((l_2_name not in l_1_weights) or (l_2_name in l_1_narrow)):
                pass
                t_7.extend((
                    '    d',
                    str(l_2_name),
                    str(('_flat' if (l_2_name in l_1_weights) else cond_expr_undefined("the inline if-expression on line 38 in 'shards.j2' evaluated to false and no else section was defined."))),
                    ' = grad_row[',
                    str(l_2_offset),
                    ':',
                    str((l_2_offset + l_2_size)),
                    ']\n',
                ))
        l_2_name = l_2_offset = l_2_size = l_2_shape = missing
        return concat(t_7)
    context.exported_vars.add('views')
    context.vars['views'] = l_0_views = Macro(environment, macro, 'views', ('plan', 'work', 'row_floats', 'weights', 'narrow', 'staged'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_pad):
        t_8 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        t_8.extend((
            str(context.call(environment.getattr(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'gather_rows'), l_1_plan, 'start + lo', 'rows', l_1_pad), 'rstrip'))),
            '\n',
        ))
        if environment.getattr(l_1_plan, 'prefetch'):
            pass
            t_8.extend((
                str(l_1_pad),
                "# this share's rows of the next batch, asked for now: shuffled, each row would be a cache\n",
                str(l_1_pad),
                "# miss its gather waits for (in order, the hardware's prefetcher keeps up)\n",
                str(context.call(environment.getattr(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'prefetch_rows'), l_1_plan, 'start + nb + lo', 'rows', l_1_pad, None), 'rstrip'))),
                '\n',
            ))
        t_8.append(
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'confirm_inputs'), l_1_plan, 'rows', l_1_pad)),
        )
        return concat(t_8)
    context.exported_vars.add('gather')
    context.vars['gather'] = l_0_gather = Macro(environment, macro, 'gather', ('plan', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan):
        t_9 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        for (l_2_name, l_2__, l_2__) in context.call(environment.getattr(l_1_plan, 'unit_buffer_shapes')):
            _loop_vars = {}
            pass
            t_9.extend((
                ', ',
                str(l_2_name),
            ))
        l_2_name = l_2__ = missing
        return concat(t_9)
    context.exported_vars.add('shared')
    context.vars['shared'] = l_0_shared = Macro(environment, macro, 'shared', ('plan',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_pad):
        t_10 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        t_10.extend((
            str(l_1_pad),
            'share_scores[s, 0] = score_a\n',
            str(l_1_pad),
            'share_scores[s, 1] = score_b',
        ))
        return concat(t_10)
    context.exported_vars.add('share_scores')
    context.vars['share_scores'] = l_0_share_scores = Macro(environment, macro, 'share_scores', ('plan', 'pad'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_item, l_1_pad):
        t_11 = []
        l_1_bn = resolve('bn')
        l_1_step = resolve('step')
        l_1_kind = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_item is missing:
            l_1_item = undefined("parameter 'item' was not provided", name='item')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        l_1_kind = environment.getitem(l_1_item, 0)
        if ((undefined(name='kind') if l_1_kind is missing else l_1_kind) == 'node'):
            pass
            t_11.extend((
                str(context.call(environment.getattr((undefined(name='b') if l_0_b is missing else l_0_b), 'forward_node'), l_1_plan, environment.getitem(l_1_item, 1), l_1_pad, 'rows')),
                '\n',
            ))
        elif ((undefined(name='kind') if l_1_kind is missing else l_1_kind) == 'moments'):
            pass
            t_11.extend((
                str(l_1_pad),
                'batchnorm_moments(',
                str(environment.getattr(environment.getitem(l_1_item, 1), 'input')),
                ', rows, MOM',
                str(environment.getattr(environment.getitem(l_1_item, 1), 'number')),
                ')\n',
            ))
        elif ((undefined(name='kind') if l_1_kind is missing else l_1_kind) == 'normalize'):
            pass
            l_1_bn = environment.getitem(l_1_item, 1)
            t_11.extend((
                str(l_1_pad),
                'batchnorm_normalize(',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'input')),
                ', rows, ',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'gamma')),
                ', ',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'beta')),
                ', ',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'output')),
                ', XH',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'number')),
                ', MU',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'number')),
                ', IS',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'number')),
                ')\n',
            ))
        elif ((undefined(name='kind') if l_1_kind is missing else l_1_kind) == 'loss'):
            pass
            t_11.extend((
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'loss_delta'), l_1_plan, 'rows', l_1_pad)),
                '\n',
                str(context.call((undefined(name='share_scores') if l_0_share_scores is missing else l_0_share_scores), l_1_plan, l_1_pad)),
                '\n',
            ))
        elif ((undefined(name='kind') if l_1_kind is missing else l_1_kind) == 'step'):
            pass
            t_11.extend((
                str(context.call(environment.getattr((undefined(name='b') if l_0_b is missing else l_0_b), 'backward_step'), l_1_plan, environment.getitem(l_1_item, 1), l_1_pad, 'rows')),
                '\n',
            ))
        elif ((undefined(name='kind') if l_1_kind is missing else l_1_kind) == 'grad_sums'):
            pass
            l_1_bn = environment.getattr(environment.getitem(l_1_item, 1), 'node')
            t_11.extend((
                str(l_1_pad),
                'batchnorm_grad_sums(',
                str(environment.getattr(environment.getitem(l_1_item, 1), 'source')),
                ', XH',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'number')),
                ', rows, d',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'gamma')),
                ', d',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'beta')),
                ')\n',
            ))
        else:
            pass
            l_1_step = environment.getitem(l_1_item, 1)
            l_1_bn = environment.getattr((undefined(name='step') if l_1_step is missing else l_1_step), 'node')
            t_11.extend((
                str(l_1_pad),
                'batchnorm_input_grad',
                str(environment.getattr((undefined(name='step') if l_1_step is missing else l_1_step), 'slope_suffix')),
                '(',
                str(environment.getattr((undefined(name='step') if l_1_step is missing else l_1_step), 'source')),
                ', XH',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'number')),
                ', IS',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'number')),
                ', ',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'gamma')),
                ', rows, nb, ',
                str(environment.getattr((undefined(name='step') if l_1_step is missing else l_1_step), 'target')),
                ', SGX',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'number')),
                ', SG',
                str(environment.getattr((undefined(name='bn') if l_1_bn is missing else l_1_bn), 'number')),
                ', ',
                str(context.call(environment.getattr((undefined(name='b') if l_0_b is missing else l_0_b), 'input_grad'), (undefined(name='step') if l_1_step is missing else l_1_step))),
                ')\n',
            ))
        return concat(t_11)
    context.exported_vars.add('stage_item')
    context.vars['stage_item'] = l_0_stage_item = Macro(environment, macro, 'stage_item', ('plan', 'item', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_work, l_1_row_floats, l_1_weights, l_1_narrow):
        t_12 = []
        l_1_staged = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_work is missing:
            l_1_work = undefined("parameter 'work' was not provided", name='work')
        if l_1_row_floats is missing:
            l_1_row_floats = undefined("parameter 'row_floats' was not provided", name='row_floats')
        if l_1_weights is missing:
            l_1_weights = undefined("parameter 'weights' was not provided", name='weights')
        if l_1_narrow is missing:
            l_1_narrow = undefined("parameter 'narrow' was not provided", name='narrow')
        pass
        l_1_staged = (t_3(environment.getattr(l_1_plan, 'shard_stages')) > 1)
        t_12.extend((
            str(context.call(environment.getattr(context.call((undefined(name='views') if l_0_views is missing else l_0_views), l_1_plan, l_1_work, l_1_row_floats, l_1_weights, l_1_narrow, (undefined(name='staged') if l_1_staged is missing else l_1_staged)), 'rstrip'))),
            '\n',
        ))
        if (undefined(name='staged') if l_1_staged is missing else l_1_staged):
            pass
            t_12.extend((
                '    moments = work_row[work_row.shape[0] - ',
                str(environment.getattr(l_1_plan, 'stats_floats')),
                ':]\n',
            ))
            for (l_2_bn, l_2_offset) in environment.getattr(l_1_plan, 'stats_layout'):
                _loop_vars = {}
                pass
                t_12.extend((
                    '    MOM',
                    str(environment.getattr(l_2_bn, 'number')),
                    ' = rows_view(moments, ',
                    str(l_2_offset),
                    ', 2, ',
                    str(environment.getattr(l_2_bn, 'n')),
                    ')\n',
                ))
            l_2_bn = l_2_offset = missing
            t_12.append(
                '    batch_loss = 0.0\n',
            )
            l_2_loop = missing
            for l_2_stage, l_2_loop in LoopContext(environment.getattr(l_1_plan, 'shard_stages'), undefined):
                _loop_vars = {}
                pass
                t_12.extend((
                    '    ',
                    str(('if' if environment.getattr(l_2_loop, 'first') else 'elif')),
                    ' stage == ',
                    str(environment.getattr(l_2_loop, 'index0')),
                    ':\n',
                ))
                if environment.getattr(l_2_loop, 'first'):
                    pass
                    t_12.extend((
                        str(context.call((undefined(name='gather') if l_0_gather is missing else l_0_gather), l_1_plan, '        ', _loop_vars=_loop_vars)),
                        '\n',
                    ))
                for l_3_item in environment.getattr(l_2_stage, 'items'):
                    _loop_vars = {}
                    pass
                    t_12.extend((
                        str(context.call(environment.getattr(context.call((undefined(name='stage_item') if l_0_stage_item is missing else l_0_stage_item), l_1_plan, l_3_item, '        ', _loop_vars=_loop_vars), 'rstrip'), _loop_vars=_loop_vars)),
                        '\n',
                    ))
                l_3_item = missing
                if environment.getattr(l_2_loop, 'first'):
                    pass
                    t_12.append(
                        '        if not inputs_finite:  # a NaN or inf input stops training as a NaN loss would\n            batch_loss = math.nan\n',
                    )
            l_2_loop = l_2_stage = missing
            t_12.append(
                '    share_loss = batch_loss\n',
            )
        else:
            pass
            t_12.extend((
                str(context.call((undefined(name='gather') if l_0_gather is missing else l_0_gather), l_1_plan, '    ')),
                '\n',
                str(context.call(environment.getattr(context.call(environment.getattr((undefined(name='b') if l_0_b is missing else l_0_b), 'forward_pass'), l_1_plan, '    ', 'rows'), 'rstrip'))),
                '\n',
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'loss_delta'), l_1_plan, 'rows', '    ')),
                '\n',
                str(context.call((undefined(name='share_scores') if l_0_share_scores is missing else l_0_share_scores), l_1_plan, '    ')),
                '\n',
                str(context.call(environment.getattr(context.call(environment.getattr((undefined(name='b') if l_0_b is missing else l_0_b), 'backward_pass'), l_1_plan, '    ', 'rows'), 'rstrip'))),
                '\n    share_loss = batch_loss if inputs_finite else math.nan  # a NaN or inf input: as a NaN loss\n',
            ))
        return concat(t_12)
    context.exported_vars.add('share_pass')
    context.vars['share_pass'] = l_0_share_pass = Macro(environment, macro, 'share_pass', ('plan', 'work', 'row_floats', 'weights', 'narrow'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_weights):
        t_13 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_weights is missing:
            l_1_weights = undefined("parameter 'weights' was not provided", name='weights')
        pass
        t_13.extend((
            "    # the share's part lo..hi, cut on cache lines of the gradient rows: no two threads\n    # write one line of them\n    lo = share * ",
            str(environment.getattr(l_1_plan, 'param_count')),
            ' // shards // ',
            str(environment.getattr(l_1_plan, 'line_floats')),
            ' * ',
            str(environment.getattr(l_1_plan, 'line_floats')),
            '\n    hi = ',
            str(environment.getattr(l_1_plan, 'param_count')),
            ' if share == shards - 1 else (share + 1) * ',
            str(environment.getattr(l_1_plan, 'param_count')),
            ' // shards // ',
            str(environment.getattr(l_1_plan, 'line_floats')),
            ' * ',
            str(environment.getattr(l_1_plan, 'line_floats')),
            '\n    summed = grads[0, lo:hi]\n    if reduce:\n        for other in range(1, shards):\n            part = grads[other, lo:hi]\n            for i in range(summed.shape[0]):\n                summed[i] += part[i]\n    if update:\n        for p in range(',
            str(t_3(environment.getattr(l_1_plan, 'params'))),
            "):  # each tensor's part lo..hi (if any)\n            param = flat_params[p]\n            offset = param_offsets[p]\n            end = offset + param.shape[0]\n            a = lo - offset if lo > offset else 0\n            b = (hi if hi < end else end) - offset\n            if a < b:\n                nonfinite += update_flat(param[a:b], grads[0, offset + a:offset + b]",
        ))
        for l_2_st in environment.getattr(environment.getattr(l_1_plan, 'update'), 'state'):
            _loop_vars = {}
            pass
            t_13.extend((
                ', flat_',
                str(l_2_st),
                '[p][a:b]',
            ))
        l_2_st = missing
        t_13.extend((
            ', scale',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'update_tail'), l_1_plan)),
            ')',
        ))
        return concat(t_13)
    context.exported_vars.add('share_update')
    context.vars['share_update'] = l_0_share_update = Macro(environment, macro, 'share_update', ('plan', 'weights'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan):
        t_14 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        t_14.extend((
            '@njit(',
            str(environment.getattr(l_1_plan, 'jit')),
            ')\ndef shard_reduce(stage, shards, nb, work, grads',
            str(context.call((undefined(name='shared') if l_0_shared is missing else l_0_shared), l_1_plan)),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(l_1_plan, 'persistent'))),
            '):\n    """After stage `stage`: the batch\'s statistics, or its sums for a batch normalization\'s\n    backward pass, from the threads\' shares (in their work rows, or their gradients)."""\n',
        ))
        def t_15(fiter):
            for l_2_stage in fiter:
                if environment.getattr(l_2_stage, 'reduce'):
                    yield l_2_stage
        l_2_loop = missing
        for l_2_stage, l_2_loop in LoopContext(t_15(environment.getattr(l_1_plan, 'shard_stages')), undefined):
            l_2_bn = missing
            _loop_vars = {}
            pass
            t_14.extend((
                '    ',
                str(('if' if environment.getattr(l_2_loop, 'first') else 'elif')),
                ' stage == ',
                str(context.call(environment.getattr(environment.getattr(l_1_plan, 'shard_stages'), 'index'), l_2_stage, _loop_vars=_loop_vars)),
                ':\n',
            ))
            l_2_bn = environment.getitem(environment.getattr(l_2_stage, 'reduce'), 1)
            _loop_vars['bn'] = l_2_bn
            if (environment.getitem(environment.getattr(l_2_stage, 'reduce'), 0) == 'statistics'):
                pass
                t_14.extend((
                    '        batchnorm_statistics(work, shards, nb, work.shape[1] - ',
                    str((environment.getattr(l_1_plan, 'stats_floats') - context.call(environment.getattr(l_1_plan, 'stats_offset'), (undefined(name='bn') if l_2_bn is missing else l_2_bn), _loop_vars=_loop_vars))),
                    ', MU',
                    str(environment.getattr((undefined(name='bn') if l_2_bn is missing else l_2_bn), 'number')),
                    ', IS',
                    str(environment.getattr((undefined(name='bn') if l_2_bn is missing else l_2_bn), 'number')),
                    ', RM',
                    str(environment.getattr((undefined(name='bn') if l_2_bn is missing else l_2_bn), 'number')),
                    ', RV',
                    str(environment.getattr((undefined(name='bn') if l_2_bn is missing else l_2_bn), 'number')),
                    ', ',
                    str(environment.getattr((undefined(name='bn') if l_2_bn is missing else l_2_bn), 'momentum')),
                    ', ',
                    str(environment.getattr((undefined(name='bn') if l_2_bn is missing else l_2_bn), 'eps')),
                    ')\n',
                ))
            else:
                pass
                t_14.extend((
                    '        batchnorm_grad_totals(grads, shards, ',
                    str(context.call(environment.getattr(l_1_plan, 'param_offset'), str_join(('d', environment.getattr((undefined(name='bn') if l_2_bn is missing else l_2_bn), 'gamma'), )), _loop_vars=_loop_vars)),
                    ', ',
                    str(context.call(environment.getattr(l_1_plan, 'param_offset'), str_join(('d', environment.getattr((undefined(name='bn') if l_2_bn is missing else l_2_bn), 'beta'), )), _loop_vars=_loop_vars)),
                    ', SGX',
                    str(environment.getattr((undefined(name='bn') if l_2_bn is missing else l_2_bn), 'number')),
                    ', SG',
                    str(environment.getattr((undefined(name='bn') if l_2_bn is missing else l_2_bn), 'number')),
                    ')\n',
                ))
        l_2_loop = l_2_stage = l_2_bn = missing
        return concat(t_14)
    context.exported_vars.add('stage_reduce')
    context.vars['stage_reduce'] = l_0_stage_reduce = Macro(environment, macro, 'stage_reduce', ('plan',), False, False, False, context.eval_ctx.autoescape)
    yield '\n\n'
    def macro(l_1_plan, l_1_work, l_1_row_floats, l_1_weights, l_1_narrow, l_1_jit):
        t_16 = []
        l_1_staged = l_1_reducing = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_work is missing:
            l_1_work = undefined("parameter 'work' was not provided", name='work')
        if l_1_row_floats is missing:
            l_1_row_floats = undefined("parameter 'row_floats' was not provided", name='row_floats')
        if l_1_weights is missing:
            l_1_weights = undefined("parameter 'weights' was not provided", name='weights')
        if l_1_narrow is missing:
            l_1_narrow = undefined("parameter 'narrow' was not provided", name='narrow')
        if l_1_jit is missing:
            l_1_jit = undefined("parameter 'jit' was not provided", name='jit')
        pass
        l_1_staged = (t_3(environment.getattr(l_1_plan, 'shard_stages')) > 1)
        l_1_reducing = t_4(context.eval_ctx, t_6(context, environment.getattr(l_1_plan, 'shard_stages'), 'reduce'))
        t_16.extend((
            '@njit(',
            str(l_1_jit),
            ')\ndef shard_thread(t, shards, crowded, sync, results, X, Y, perm, epochs, batch_size, first_step, clip_norm, batch_losses, batch_scores, work, grads, losses, share_scores, verdicts',
            str(context.call((undefined(name='shared') if l_0_shared is missing else l_0_shared), l_1_plan)),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(l_1_plan, 'params'))),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(l_1_plan, 'persistent'))),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(l_1_plan, 'states'))),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(l_1_plan, 'model_hyper'))),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr(l_1_plan, 'update'), 'hyper'))),
            '):\n    """Thread t\'s part of training epochs on the split path (perm their row orders back to\n    back, as run() takes them); train_epoch starts the threads (split_support.run_threads),\n    sync zeroed. Thread t runs each batch\'s ',
            str(('stages' if (undefined(name='staged') if l_1_staged is missing else l_1_staged) else 'pass')),
            ' on its share of the rows (in its rows\n    of work and grads), then its share of the update, the threads meeting after each.\n    Where they did not all start at once, or cannot (crowded: more shares than Numba has\n    threads), thread 0 does every share of the call\'s epochs in turn, the same arithmetic\n    in the same order, and the others leave. Thread 0 writes (batches done, step, status,\n    summed loss) into results. The threads are Python\'s, not a prange\'s: Numba\'s parallel\n    region cost a 64-128-64-10 network\'s first fit about 3 s of compiling. A share\'s pass\n    and its update are written out here, once each, not functions of their own: Numba\n    compiles a called function by itself and then again inside each caller (LLVM\'s passes\n    and machine code for all of it): a new 64-130-64-10\'s first fit compiled in 3.2 s, 3.5 s\n    through two functions (and, earlier, 2.3 s more with a further function level and a\n    second call site of one)."""\n    serial = crowded or not join_threads(sync, shards)\n    if t == 0 or not serial:\n',
            str(context.call(environment.getattr(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'update_views'), l_1_plan, l_1_weights, '        ', grads=False), 'rstrip'))),
            '\n        param_offsets = (',
            str(t_2(context.eval_ctx, t_5(context, environment.getattr(l_1_plan, 'param_layout'), attribute=1), ', ')),
            str((',' if (t_3(environment.getattr(l_1_plan, 'param_layout')) == 1) else cond_expr_undefined("the inline if-expression on line 197 in 'shards.j2' evaluated to false and no else section was defined."))),
            ')  # in a row of grads\n        first, last = (0, shards) if serial else (t, t + 1)\n',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'thread_batches'))),
            '\n            for stage in range(',
            str(t_3(environment.getattr(l_1_plan, 'shard_stages'))),
            '):\n                for s in range(first, last):  # share s: rows lo..hi, row s of work and grads\n                    lo = s * nb // shards\n                    hi = (s + 1) * nb // shards\n                    work_row = work[s]\n                    grad_row = grads[s]\n',
            str(t_1(context.call(environment.getattr(context.call((undefined(name='share_pass') if l_0_share_pass is missing else l_0_share_pass), l_1_plan, l_1_work, l_1_row_floats, l_1_weights, l_1_narrow), 'rstrip')), 16, True)),
            "\n                    if stage == 0:  # the inputs' check, and the loss where stage 0 has it\n                        losses[s] = share_loss\n",
        ))
        if environment.getattr(l_1_plan, 'loss_stage'):
            pass
            t_16.extend((
                '                    elif stage == ',
                str(environment.getattr(l_1_plan, 'loss_stage')),
                ':\n                        losses[s] += share_loss\n',
            ))
        t_16.append(
            '                if not serial:\n                    sense = meet(sync, shards, sense)\n',
        )
        if (undefined(name='reducing') if l_1_reducing is missing else l_1_reducing):
            pass
            t_16.append(
                '                if ',
            )
            l_2_loop = missing
            for l_2_stage, l_2_loop in LoopContext((undefined(name='reducing') if l_1_reducing is missing else l_1_reducing), undefined):
                _loop_vars = {}
                pass
                t_16.extend((
                    str((' or ' if (not environment.getattr(l_2_loop, 'first')) else cond_expr_undefined("the inline if-expression on line 216 in 'shards.j2' evaluated to false and no else section was defined."))),
                    'stage == ',
                    str(context.call(environment.getattr(environment.getattr(l_1_plan, 'shard_stages'), 'index'), l_2_stage, _loop_vars=_loop_vars)),
                ))
            l_2_loop = l_2_stage = missing
            t_16.extend((
                ":\n                    if t == 0:  # the batch's statistics or sums, once\n                        shard_reduce(stage, shards, nb, work, grads",
                str(context.call((undefined(name='shared') if l_0_shared is missing else l_0_shared), l_1_plan)),
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(l_1_plan, 'persistent'))),
                ')\n                    if not serial:\n                        sense = meet(sync, shards, sense)\n',
            ))
        t_16.append(
            "            batch_loss = 0.0\n            for s in range(shards):\n                batch_loss += losses[s]\n            loss_sum += batch_loss\n            if t == 0:\n                batch_losses[flat] = batch_loss / nb\n            # all threads read the same values after a meeting: all take the same branch\n            # not math.isfinite: Numba's is (x - x) == (x - x), which LLVM's fastmath\n            # reassociation may fold to true (it did where the loss added a check of the inputs)\n            if not abs(batch_loss) < math.inf:\n                done, status = flat, 1\n                break\n            if t == 0 and scoring:  # the batch's counts for fit's running metrics\n                for c in range(2):\n                    batch_scores[flat, c] = 0.0\n                    for s in range(shards):\n                        batch_scores[flat, c] += share_scores[s, c]\n            step += 1\n            scale = 1.0\n",
        )
        if environment.getattr(environment.getattr(l_1_plan, 'update'), 'invariant'):
            pass
            t_16.extend((
                str(context.call(environment.getattr(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'invariant_lines'), l_1_plan, '            '), 'rstrip'))),
                '\n',
            ))
        t_16.extend((
            "            # with clipping, the summed gradients' norm first, then the update\n            phases = 2 if clipping else 1\n            for phase in range(phases):\n                reduce, update = phase == 0, phase == phases - 1\n                for share in range(first, last):\n                    nonfinite = 0.0\n",
            str(t_1(context.call(environment.getattr(context.call((undefined(name='share_update') if l_0_share_update is missing else l_0_share_update), l_1_plan, l_1_weights), 'rstrip')), 16, True)),
            '\n                    verdicts[share] = nonfinite\n                if not serial:\n                    sense = meet(sync, shards, sense)\n                if phase < phases - 1:\n',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'clip_scale'), 'sum_of_squares(grads[0])', '                    ')),
            '\n            nonfinite = 0.0\n            for s in range(shards):\n                nonfinite += verdicts[s]\n            if nonfinite != 0.0:\n                done, status = flat, 2\n                break\n        if t == 0:\n',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'thread_results'), '            ')),
        ))
        return concat(t_16)
    context.exported_vars.add('thread_epoch')
    context.vars['thread_epoch'] = l_0_thread_epoch = Macro(environment, macro, 'thread_epoch', ('plan', 'work', 'row_floats', 'weights', 'narrow', 'jit'), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '4=48&5=50&10=52&12=71&13=76&14=77&15=82&16=84&17=95&19=99&21=110&23=119&26=124&27=128&28=132&29=139&30=143&33=147&34=150&35=154&37=161&38=165&43=178&44=186&45=189&46=192&47=194&48=196&50=200&54=205&55=210&59=221&60=229&61=231&64=238&65=250&66=251&67=254&68=257&69=260&70=267&71=269&72=271&73=288&74=291&75=293&76=296&77=299&78=302&79=304&80=306&82=319&83=320&84=322&95=346&96=360&97=362&98=365&99=369&100=372&101=377&104=389&105=394&106=399&107=402&109=405&110=409&112=413&119=425&120=427&121=429&122=431&123=433&135=439&138=448&139=454&147=462&154=465&158=482&159=489&160=491&163=495&164=506&165=511&166=513&167=517&169=536&175=550&176=566&177=567&178=570&179=572&182=579&196=581&197=583&199=586&200=588&206=590&209=593&210=597&215=603&216=609&218=620&241=627&242=630&250=635&255=637&263=639'