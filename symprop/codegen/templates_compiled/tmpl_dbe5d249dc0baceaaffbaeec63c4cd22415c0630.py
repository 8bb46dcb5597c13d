from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'columns.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_m = l_0_views = l_0_lines = l_0_part_offsets = l_0_part_views = l_0_copy_params = l_0_column_thread = l_0_update_calls = l_0_column_arrays = missing
    try:
        t_1 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_2 = environment.filters['replace']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'replace' found.")
    try:
        t_3 = environment.tests['none']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No test named 'none' found.")
    try:
        t_4 = environment.tests['number']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No test named 'number' found.")
    pass
    l_0_m = context.vars['m'] = environment.get_template('macros.j2', 'columns.j2')._get_default_module(context)
    context.exported_vars.discard('m')
    def macro(l_1_plan, l_1_entries, l_1_row, l_1_pad):
        t_5 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_entries is missing:
            l_1_entries = undefined("parameter 'entries' was not provided", name='entries')
        if l_1_row is missing:
            l_1_row = undefined("parameter 'row' was not provided", name='row')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        for (l_2_name, l_2_rows, l_2_cols) in l_1_entries:
            _loop_vars = {}
            pass
            if t_3(l_2_rows):
                pass
                t_5.extend((
                    str(l_1_pad),
                    str(l_2_name),
                    ' = ',
                    str(l_1_row),
                    '[o:o + ',
                    str(l_2_cols),
                    ']\n',
                ))
            else:
                pass
                t_5.extend((
                    str(l_1_pad),
                    str(l_2_name),
                    ' = rows_view(',
                    str(l_1_row),
                    ', o, ',
                    str(l_2_rows),
                    ', ',
                    str(l_2_cols),
                    ')\n',
                ))
            t_5.extend((
                str(l_1_pad),
                'o += ',
                str(context.call((undefined(name='lines') if l_0_lines is missing else l_0_lines), l_1_plan, l_2_rows, l_2_cols, _loop_vars=_loop_vars)),
                '\n',
            ))
        l_2_name = l_2_rows = l_2_cols = missing
        return concat(t_5)
    context.exported_vars.add('views')
    context.vars['views'] = l_0_views = Macro(environment, macro, 'views', ('plan', 'entries', 'row', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_rows, l_1_cols):
        t_6 = []
        l_1_L = l_1_size = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_rows is missing:
            l_1_rows = undefined("parameter 'rows' was not provided", name='rows')
        if l_1_cols is missing:
            l_1_cols = undefined("parameter 'cols' was not provided", name='cols')
        pass
        l_1_L = environment.getattr(l_1_plan, 'line_floats')
        l_1_size = (l_1_cols if t_3(l_1_rows) else ((l_1_rows * l_1_cols) if (t_4(l_1_rows) and t_4(l_1_cols)) else str_join((l_1_rows, ' * ', l_1_cols, ))))
        if t_4((undefined(name='size') if l_1_size is missing else l_1_size)):
            pass
            t_6.append(
                str((((((undefined(name='size') if l_1_size is missing else l_1_size) + (undefined(name='L') if l_1_L is missing else l_1_L)) - 1) // (undefined(name='L') if l_1_L is missing else l_1_L)) * (undefined(name='L') if l_1_L is missing else l_1_L))),
            )
        else:
            pass
            t_6.extend((
                '-(-(',
                str((undefined(name='size') if l_1_size is missing else l_1_size)),
                ') // ',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
                ') * ',
                str((undefined(name='L') if l_1_L is missing else l_1_L)),
            ))
        return concat(t_6)
    context.exported_vars.add('lines')
    context.vars['lines'] = l_0_lines = Macro(environment, macro, 'lines', ('plan', 'rows', 'cols'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_pad):
        t_7 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        t_7.extend((
            str(l_1_pad),
            'widest = -(-',
            str(environment.getattr(environment.getitem(environment.getattr(l_1_plan, 'layers'), 0), 'n_out')),
            ' // shards)\n',
            str(l_1_pad),
            'o = whole_floats\n',
        ))
        for (l_2_name, l_2_rows, l_2_cols) in environment.getitem(environment.getattr(l_1_plan, 'column_layout'), 'part'):
            _loop_vars = {}
            pass
            t_7.extend((
                str(l_1_pad),
                'o_',
                str(l_2_name),
                ' = o\n',
                str(l_1_pad),
                'o += ',
                str(t_2(context.eval_ctx, context.call((undefined(name='lines') if l_0_lines is missing else l_0_lines), l_1_plan, l_2_rows, l_2_cols, _loop_vars=_loop_vars), 'units', 'widest')),
                '\n',
            ))
        l_2_name = l_2_rows = l_2_cols = missing
        return concat(t_7)
    context.exported_vars.add('part_offsets')
    context.vars['part_offsets'] = l_0_part_offsets = Macro(environment, macro, 'part_offsets', ('plan', 'pad'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_pad, l_1_names):
        t_8 = []
        l_1_n1 = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_names is missing:
            l_1_names = 'all'
        pass
        l_1_n1 = environment.getattr(environment.getitem(environment.getattr(l_1_plan, 'layers'), 0), 'n_out')
        t_8.extend((
            str(l_1_pad),
            'unit_lo = s * ',
            str((undefined(name='n1') if l_1_n1 is missing else l_1_n1)),
            ' // shards\n',
            str(l_1_pad),
            'units = (s + 1) * ',
            str((undefined(name='n1') if l_1_n1 is missing else l_1_n1)),
            ' // shards - unit_lo\n',
        ))
        def t_9(fiter):
            for (l_2_name, l_2_rows, l_2_cols) in fiter:
                if ((l_1_names == 'all') or (l_2_name in l_1_names)):
                    yield (l_2_name, l_2_rows, l_2_cols)
        for (l_2_name, l_2_rows, l_2_cols) in t_9(environment.getitem(environment.getattr(l_1_plan, 'column_layout'), 'part')):
            _loop_vars = {}
            pass
            if t_3(l_2_rows):
                pass
                t_8.extend((
                    str(l_1_pad),
                    str(l_2_name),
                    ' = work[s][o_',
                    str(l_2_name),
                    ':o_',
                    str(l_2_name),
                    ' + ',
                    str(l_2_cols),
                    ']\n',
                ))
            else:
                pass
                t_8.extend((
                    str(l_1_pad),
                    str(l_2_name),
                    ' = rows_view(work[s], o_',
                    str(l_2_name),
                    ', ',
                    str(l_2_rows),
                    ', ',
                    str(l_2_cols),
                    ')\n',
                ))
        l_2_name = l_2_rows = l_2_cols = missing
        return concat(t_8)
    context.exported_vars.add('part_views')
    context.vars['part_views'] = l_0_part_views = Macro(environment, macro, 'part_views', ('plan', 'pad', 'names'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_into_copy, l_1_whole, l_1_pad):
        t_10 = []
        l_1_n2 = l_1_shapes = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_into_copy is missing:
            l_1_into_copy = undefined("parameter 'into_copy' was not provided", name='into_copy')
        if l_1_whole is missing:
            l_1_whole = undefined("parameter 'whole' was not provided", name='whole')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        pass
        l_1_n2 = environment.getattr(environment.getitem(environment.getattr(l_1_plan, 'layers'), 1), 'n_out')
        l_1_shapes = {'W1': (environment.getattr(l_1_plan, 'n_in'), 'units', '[i, unit_lo + j]'), 'b1': ('units', '[unit_lo + j]'), 'W2': ('units', (undefined(name='n2') if l_1_n2 is missing else l_1_n2), '[unit_lo + i, j]'), 'b2': ((undefined(name='n2') if l_1_n2 is missing else l_1_n2), '[j]'), 'W3': ((undefined(name='n2') if l_1_n2 is missing else l_1_n2), environment.getattr(l_1_plan, 'n_out'), '[i, j]'), 'b3': (environment.getattr(l_1_plan, 'n_out'), '[j]')}
        for l_2_name in (['b2', 'W3', 'b3'] if l_1_whole else ['W1', 'b1', 'W2']):
            l_2_shape = missing
            _loop_vars = {}
            pass
            l_2_shape = environment.getitem((undefined(name='shapes') if l_1_shapes is missing else l_1_shapes), l_2_name)
            _loop_vars['shape'] = l_2_shape
            for l_3_state in ([''] + environment.getattr(environment.getattr(l_1_plan, 'update'), 'state')):
                l_3_inner = resolve('inner')
                l_3_outer = resolve('outer')
                l_3_copy = missing
                _loop_vars = {}
                pass
                l_3_copy = str_join(((str_join((l_3_state, '_', )) if l_3_state else ''), l_2_name, ))
                _loop_vars['copy'] = l_3_copy
                if (t_1((undefined(name='shape') if l_2_shape is missing else l_2_shape)) == 3):
                    pass
                    l_3_inner = str_join(((undefined(name='copy') if l_3_copy is missing else l_3_copy), '[i, j]', ))
                    _loop_vars['inner'] = l_3_inner
                    l_3_outer = str_join(((undefined(name='copy') if l_3_copy is missing else l_3_copy), '_param', environment.getitem((undefined(name='shape') if l_2_shape is missing else l_2_shape), 2), ))
                    _loop_vars['outer'] = l_3_outer
                    t_10.extend((
                        str(l_1_pad),
                        'for i in range(',
                        str(environment.getitem((undefined(name='shape') if l_2_shape is missing else l_2_shape), 0)),
                        '):\n',
                        str(l_1_pad),
                        '    for j in range(',
                        str(environment.getitem((undefined(name='shape') if l_2_shape is missing else l_2_shape), 1)),
                        '):\n',
                        str(l_1_pad),
                        '        ',
                        str(((undefined(name='inner') if l_3_inner is missing else l_3_inner) if l_1_into_copy else (undefined(name='outer') if l_3_outer is missing else l_3_outer))),
                        ' = ',
                        str(((undefined(name='outer') if l_3_outer is missing else l_3_outer) if l_1_into_copy else (undefined(name='inner') if l_3_inner is missing else l_3_inner))),
                        '\n',
                    ))
                else:
                    pass
                    l_3_inner = str_join(((undefined(name='copy') if l_3_copy is missing else l_3_copy), '[j]', ))
                    _loop_vars['inner'] = l_3_inner
                    l_3_outer = str_join(((undefined(name='copy') if l_3_copy is missing else l_3_copy), '_param', environment.getitem((undefined(name='shape') if l_2_shape is missing else l_2_shape), 1), ))
                    _loop_vars['outer'] = l_3_outer
                    t_10.extend((
                        str(l_1_pad),
                        'for j in range(',
                        str(environment.getitem((undefined(name='shape') if l_2_shape is missing else l_2_shape), 0)),
                        '):\n',
                        str(l_1_pad),
                        '    ',
                        str(((undefined(name='inner') if l_3_inner is missing else l_3_inner) if l_1_into_copy else (undefined(name='outer') if l_3_outer is missing else l_3_outer))),
                        ' = ',
                        str(((undefined(name='outer') if l_3_outer is missing else l_3_outer) if l_1_into_copy else (undefined(name='inner') if l_3_inner is missing else l_3_inner))),
                        '\n',
                    ))
            l_3_state = l_3_copy = l_3_inner = l_3_outer = missing
        l_2_name = l_2_shape = missing
        return concat(t_10)
    context.exported_vars.add('copy_params')
    context.vars['copy_params'] = l_0_copy_params = Macro(environment, macro, 'copy_params', ('plan', 'into_copy', 'whole', 'pad'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_jit):
        t_11 = []
        l_1_L1 = l_1_L2 = l_1_L3 = l_1_params = l_1_owned = l_1_kept = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_jit is missing:
            l_1_jit = undefined("parameter 'jit' was not provided", name='jit')
        pass
        (l_1_L1, l_1_L2, l_1_L3) = environment.getattr(l_1_plan, 'layers')
        l_1_params = environment.getattr(l_1_plan, 'params')
        l_1_owned = ((undefined(name='params') if l_1_params is missing else l_1_params) + environment.getattr(l_1_plan, 'states'))
        l_1_kept = []
        for l_2_state in ([''] + environment.getattr(environment.getattr(l_1_plan, 'update'), 'state')):
            _loop_vars = {}
            pass
            for l_3_name in ['W1', 'b1', 'W2']:
                l_3__ = missing
                _loop_vars = {}
                pass
                l_3__ = context.call(environment.getattr((undefined(name='kept') if l_1_kept is missing else l_1_kept), 'append'), str_join(((str_join((l_2_state, '_', )) if l_2_state else ''), l_3_name, )), _loop_vars=_loop_vars)
                _loop_vars['_'] = l_3__
            l_3_name = l_3__ = missing
        l_2_state = missing
        t_11.extend((
            '@njit(',
            str(l_1_jit),
            ')\ndef column_thread(t, shards, crowded, sync, results, X, Y, perm, epochs, batch_size, first_step, clip_norm, batch_losses, batch_scores, work, parts, outs, checks, cap, whole_floats',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(l_1_plan, 'params'))),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(l_1_plan, 'states'))),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(l_1_plan, 'model_hyper'))),
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr(l_1_plan, 'update'), 'hyper'))),
            '):\n    """Thread t\'s part of training epochs on the column split (perm their row orders back\n    to back, as run() takes them); train_epoch starts the threads (split_support.run_threads),\n    sync zeroed. Share s takes the first layer\'s units from unit_lo = s * ',
            str(environment.getattr((undefined(name='L1') if l_1_L1 is missing else l_1_L1), 'n_out')),
            ' // shards on:\n    W1\'s columns and W2\'s rows of them, copied into its row of work for the call. Each batch,\n    each thread gathers the whole batch, computes its share\'s units and its share\'s partial\n    sum of the second layer\'s product (in parts), and after the threads meet, adds up all\n    partial sums in share order: every thread then holds the same second-layer output. Share\n    s takes rows s * nb // shards on through the output layer and the loss, its rows of the\n    output delta into outs; after the threads meet again, each computes the output layer\'s\n    gradients and the delta below it whole (its own copy of the output layer\'s parameters,\n    updated alike in every thread), then its share\'s gradients and update. Two meetings a\n    batch (three with clipping), and one at the end of the call; an update\'s verdict is\n    read after the next one (checks). Each array the threads exchange is written again\n    only after a meeting that its readers reach once they have read it: one copy of each\n    is enough. Where the threads did not all start\n    at once, or cannot (crowded), thread 0 runs every share in turn, the same arithmetic in\n    the same order. Thread 0 writes (batches done, step, status, summed loss) into results\n    and copies the whole layers\' parameters back; each share its own block."""\n    serial = crowded or not join_threads(sync, shards)\n    if t == 0 or not serial:\n        first, last = (0, shards) if serial else (t, t + 1)\n',
        ))
        for l_2_name in (undefined(name='owned') if l_1_owned is missing else l_1_owned):
            _loop_vars = {}
            pass
            t_11.extend((
                '        ',
                str(l_2_name),
                '_param = ',
                str(l_2_name),
                '\n',
            ))
        l_2_name = missing
        t_11.extend((
            "        # this thread's copies of the whole layers and its batch buffers, in its row of work\n        o = 0\n",
            str(context.call(environment.getattr(context.call((undefined(name='views') if l_0_views is missing else l_0_views), l_1_plan, environment.getitem(environment.getattr(l_1_plan, 'column_layout'), 'whole'), 'work[first]', '        '), 'rstrip'))),
            '\n',
        ))
        if (environment.getattr(l_1_plan, 'n_in') in environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'ROW_TUPLE_COLUMNS')):
            pass
            t_11.append(
                "        XB_flat = XB.reshape(-1)  # for the gather's inputs_check\n",
            )
        t_11.extend((
            str(context.call(environment.getattr(context.call((undefined(name='part_offsets') if l_0_part_offsets is missing else l_0_part_offsets), l_1_plan, '        '), 'rstrip'))),
            "\n        # flat, for each share's rows of the output layer\n",
        ))
        for l_2_name in (['A2', 'Z3', 'A3'] if environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'keep_z') else ['A2', 'A3']):
            _loop_vars = {}
            pass
            t_11.extend((
                '        ',
                str(l_2_name),
                '_flat = ',
                str(l_2_name),
                '.reshape(-1)\n',
            ))
        l_2_name = missing
        t_11.extend((
            "        # the caller's parameters copied in: the whole layers', then each share's block\n",
            str(context.call(environment.getattr(context.call((undefined(name='copy_params') if l_0_copy_params is missing else l_0_copy_params), l_1_plan, True, True, '        '), 'rstrip'))),
            '\n',
        ))
        if context.call(environment.getattr(l_1_plan, 'keeps_transpose'), (undefined(name='L3') if l_1_L3 is missing else l_1_L3)):
            pass
            t_11.extend((
                '        transpose_',
                str(environment.getattr(l_1_plan, 'float_type')),
                '(W3, W3T)\n',
            ))
        t_11.extend((
            '        for s in range(first, last):\n',
            str(context.call(environment.getattr(context.call((undefined(name='part_views') if l_0_part_views is missing else l_0_part_views), l_1_plan, '            ', ((undefined(name='kept') if l_1_kept is missing else l_1_kept) + ['W2T'])), 'rstrip'))),
            '\n',
            str(context.call(environment.getattr(context.call((undefined(name='copy_params') if l_0_copy_params is missing else l_0_copy_params), l_1_plan, True, False, '            '), 'rstrip'))),
            '\n',
        ))
        if context.call(environment.getattr(l_1_plan, 'keeps_transpose'), (undefined(name='L2') if l_1_L2 is missing else l_1_L2)):
            pass
            t_11.extend((
                '            transpose_',
                str(environment.getattr(l_1_plan, 'float_type')),
                '(W2, W2T)\n',
            ))
        if (environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'weights_arg') != environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'W')):
            pass
            t_11.extend((
                '        ',
                str(environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'weights_arg')),
                ' = ',
                str(environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'W')),
                ".reshape(-1)  # a narrow layer's kernels read W flat\n        d",
                str(environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'weights_arg')),
                ' = d',
                str(environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'W')),
                '.reshape(-1)\n',
            ))
        t_11.extend((
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'thread_batches'))),
            '\n',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'batch_in'), l_1_plan, 'start', 'nb', 'batch_size', '            ', None)),
            "\n            for s in range(first, last):  # each share's units, and its partial sum\n",
            str(context.call(environment.getattr(context.call((undefined(name='part_views') if l_0_part_views is missing else l_0_part_views), l_1_plan, '                ', ['W1', 'b1', 'W2', 'A1', 'Z1']), 'rstrip'))),
            '\n                ',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'forward_call'), l_1_plan, (undefined(name='L1') if l_1_L1 is missing else l_1_L1), 'nb')),
            '\n                partial = rows_view(parts[s], 0, nb, ',
            str(environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'n_out')),
            ')\n                ',
            str(environment.getattr(l_1_plan, 'gemm')),
            '(A1, W2, partial, nb, ',
            str(environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'n_out')),
            ", units, False, False)\n            if not serial:\n                sense = meet(sync, shards, sense)\n            if flat > 0:  # the previous batch's update: its new values all finite?\n                nonfinite = 0.0\n                for s in range(shards):\n                    nonfinite += checks[s, 0]\n                if nonfinite != 0.0:\n                    done, status = flat - 1, 2\n                    break\n            # the second layer's input: the partial sums added in share order\n            sums = ",
            str(environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'z_buffer')),
            '\n            partial = rows_view(parts[0], 0, nb, ',
            str(environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'n_out')),
            ')\n            for r in range(nb):\n                for j in range(',
            str(environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'n_out')),
            '):\n                    sums[r, j] = partial[r, j]\n            for other in range(1, shards):\n                partial = rows_view(parts[other], 0, nb, ',
            str(environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'n_out')),
            ')\n                for r in range(nb):\n                    for j in range(',
            str(environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'n_out')),
            '):\n                        sums[r, j] += partial[r, j]\n            for r in range(nb):\n                for j in range(',
            str(environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'n_out')),
            '):\n                    z = sums[r, j] + b2[j]\n',
        ))
        if environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'keep_z'):
            pass
            t_11.append(
                '                    Z2[r, j] = z\n',
            )
        t_11.extend((
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'lines'), environment.getattr(environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'act'), 'forward'), 20)),
            "\n                    A2[r, j] = a\n            # each share's rows of the output layer and the loss, its delta's rows into outs\n            D3 = rows_view(outs, 0, nb, ",
            str(environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'n_out')),
            ')\n            for s in range(first, last):\n                lo = s * nb // shards\n                hi = (s + 1) * nb // shards\n                rows = hi - lo\n                ',
            str(environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'forward_kernel')),
            '(rows_view(A2_flat, lo * ',
            str(environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'n_out')),
            ', rows, ',
            str(environment.getattr((undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'n_out')),
            '), rows, ',
            str(environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'weights_arg')),
            ', b3, ',
            str((('rows_view(Z3_flat, lo * %d, rows, %d), ' % (environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'n_out'), environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'n_out'))) if environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'keep_z') else cond_expr_undefined("the inline if-expression on line 181 in 'columns.j2' evaluated to false and no else section was defined."))),
            'rows_view(A3_flat, lo * ',
            str(environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'n_out')),
            ', rows, ',
            str(environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'n_out')),
            ')',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr((undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'act'), 'hyper'))),
            ')\n',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'loss_delta'), l_1_plan, 'lo, hi', '                ')),
            "\n                checks[s, 2] = batch_loss\n                checks[s, 3] = score_a\n                checks[s, 4] = score_b\n            if not serial:\n                sense = meet(sync, shards, sense)\n            batch_loss = 0.0\n            score_a = 0.0\n            score_b = 0.0\n            for s in range(shards):  # in share order: the same sums in every thread\n                batch_loss += checks[s, 2]\n                score_a += checks[s, 3]\n                score_b += checks[s, 4]\n            if not inputs_finite:  # a NaN or inf input stops training as a NaN loss would\n                batch_loss = math.nan\n            loss_sum += batch_loss\n            if t == 0:\n                batch_losses[flat] = batch_loss / nb\n            # every thread computed the same loss: all take the same branch\n            if not abs(batch_loss) < math.inf:\n                done, status = flat, 1\n                break\n            if t == 0 and scoring:  # the batch's counts for fit's running metrics\n                batch_scores[flat, 0] = score_a\n                batch_scores[flat, 1] = score_b\n",
            str(context.call(environment.getattr(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'layer_backward'), l_1_plan, (undefined(name='L3') if l_1_L3 is missing else l_1_L3), 'nb', '            '), 'rstrip'))),
            "\n            for s in range(first, last):  # each share's gradients\n",
            str(context.call(environment.getattr(context.call((undefined(name='part_views') if l_0_part_views is missing else l_0_part_views), l_1_plan, '                ', ['W2', 'W2T', 'A1', 'Z1', 'D1', 'dW1', 'db1', 'dW2']), 'rstrip'))),
            '\n',
            str(context.call(environment.getattr(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'layer_backward'), l_1_plan, (undefined(name='L2') if l_1_L2 is missing else l_1_L2), 'nb', '                '), 'rstrip'))),
            '\n',
            str(context.call(environment.getattr(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'layer_backward'), l_1_plan, (undefined(name='L1') if l_1_L1 is missing else l_1_L1), 'nb', '                '), 'rstrip'))),
            "\n            step += 1\n            scale = 1.0\n            if clipping:  # the norm of all gradients: each share's, the whole layers' once\n                for s in range(first, last):\n",
            str(context.call(environment.getattr(context.call((undefined(name='part_views') if l_0_part_views is missing else l_0_part_views), l_1_plan, '                    ', ['dW1', 'db1', 'dW2']), 'rstrip'))),
            '\n                    squares = sum_of_squares(dW1.reshape(-1)) + sum_of_squares(db1) + sum_of_squares(dW2.reshape(-1))\n                    if s == 0:\n                        squares += sum_of_squares(db2) + sum_of_squares(dW3.reshape(-1)) + sum_of_squares(db3)\n                    checks[s, 1] = squares\n                if not serial:\n                    sense = meet(sync, shards, sense)\n                squares = 0.0\n                for s in range(shards):\n                    squares += checks[s, 1]\n',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'clip_scale'), 'squares', '                ')),
            '\n',
        ))
        if environment.getattr(environment.getattr(l_1_plan, 'update'), 'invariant'):
            pass
            t_11.extend((
                str(context.call(environment.getattr(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'invariant_lines'), l_1_plan, '            '), 'rstrip'))),
                '\n',
            ))
        t_11.extend((
            "            for s in range(first, last):  # each share's update\n",
            str(context.call(environment.getattr(context.call((undefined(name='part_views') if l_0_part_views is missing else l_0_part_views), l_1_plan, '                '), 'rstrip'))),
            '\n',
            str(context.call(environment.getattr(context.call((undefined(name='update_calls') if l_0_update_calls is missing else l_0_update_calls), l_1_plan, ['W1', 'b1', 'W2'], '                '), 'rstrip'))),
            '\n                if s == first:  # the whole layers, in every thread alike\n',
            str(context.call(environment.getattr(context.call((undefined(name='update_calls') if l_0_update_calls is missing else l_0_update_calls), l_1_plan, ['b2', 'W3', 'b3'], '                    ', '+='), 'rstrip'))),
            '\n',
        ))
        if context.call(environment.getattr(l_1_plan, 'keeps_transpose'), (undefined(name='L3') if l_1_L3 is missing else l_1_L3)):
            pass
            t_11.extend((
                '                    transpose_',
                str(environment.getattr(l_1_plan, 'float_type')),
                '(W3, W3T)\n',
            ))
        if context.call(environment.getattr(l_1_plan, 'keeps_transpose'), (undefined(name='L2') if l_1_L2 is missing else l_1_L2)):
            pass
            t_11.extend((
                '                transpose_',
                str(environment.getattr(l_1_plan, 'float_type')),
                '(W2, W2T)\n',
            ))
        t_11.extend((
            "                checks[s, 0] = nonfinite\n        if status == 0 and epochs * batches > 0:  # the last update's verdict\n            if not serial:\n                sense = meet(sync, shards, sense)\n            nonfinite = 0.0\n            for s in range(shards):\n                nonfinite += checks[s, 0]\n            if nonfinite != 0.0:\n                done, status = epochs * batches - 1, 2\n        for s in range(first, last):  # each share's block back into the caller's arrays\n",
            str(context.call(environment.getattr(context.call((undefined(name='part_views') if l_0_part_views is missing else l_0_part_views), l_1_plan, '            ', (undefined(name='kept') if l_1_kept is missing else l_1_kept)), 'rstrip'))),
            '\n',
            str(context.call(environment.getattr(context.call((undefined(name='copy_params') if l_0_copy_params is missing else l_0_copy_params), l_1_plan, False, False, '            '), 'rstrip'))),
            '\n        if t == 0:\n',
            str(context.call(environment.getattr(context.call((undefined(name='copy_params') if l_0_copy_params is missing else l_0_copy_params), l_1_plan, False, True, '            '), 'rstrip'))),
            '\n',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'thread_results'), '            ')),
        ))
        return concat(t_11)
    context.exported_vars.add('column_thread')
    context.vars['column_thread'] = l_0_column_thread = Macro(environment, macro, 'column_thread', ('plan', 'jit'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_names, l_1_pad, l_1_assign):
        t_12 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_names is missing:
            l_1_names = undefined("parameter 'names' was not provided", name='names')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_assign is missing:
            l_1_assign = '='
        pass
        t_12.extend((
            str(l_1_pad),
            'tensors = (',
        ))
        for l_2_name in l_1_names:
            _loop_vars = {}
            pass
            t_12.extend((
                str(l_2_name),
                str(('.reshape(-1)' if context.call(environment.getattr(l_2_name, 'startswith'), 'W', _loop_vars=_loop_vars) else cond_expr_undefined("the inline if-expression on line 261 in 'columns.j2' evaluated to false and no else section was defined."))),
                ', ',
            ))
        l_2_name = missing
        t_12.extend((
            ')\n',
            str(l_1_pad),
            'gradients = (',
        ))
        for l_2_name in l_1_names:
            _loop_vars = {}
            pass
            t_12.extend((
                'd',
                str(l_2_name),
                str(('.reshape(-1)' if context.call(environment.getattr(l_2_name, 'startswith'), 'W', _loop_vars=_loop_vars) else cond_expr_undefined("the inline if-expression on line 262 in 'columns.j2' evaluated to false and no else section was defined."))),
                ', ',
            ))
        l_2_name = missing
        t_12.append(
            ')\n',
        )
        for l_2_st in environment.getattr(environment.getattr(l_1_plan, 'update'), 'state'):
            _loop_vars = {}
            pass
            t_12.extend((
                str(l_1_pad),
                'states_',
                str(l_2_st),
                ' = (',
            ))
            for l_3_name in l_1_names:
                _loop_vars = {}
                pass
                t_12.extend((
                    str(l_2_st),
                    '_',
                    str(l_3_name),
                    str(('.reshape(-1)' if context.call(environment.getattr(l_3_name, 'startswith'), 'W', _loop_vars=_loop_vars) else cond_expr_undefined("the inline if-expression on line 264 in 'columns.j2' evaluated to false and no else section was defined."))),
                    ', ',
                ))
            l_3_name = missing
            t_12.append(
                ')\n',
            )
        l_2_st = missing
        t_12.extend((
            str(l_1_pad),
            'verdict = 0.0\n',
            str(l_1_pad),
            'for i in range(',
            str(t_1(l_1_names)),
            '):\n',
            str(l_1_pad),
            '    verdict += update_flat(tensors[i], gradients[i]',
        ))
        for l_2_st in environment.getattr(environment.getattr(l_1_plan, 'update'), 'state'):
            _loop_vars = {}
            pass
            t_12.extend((
                ', states_',
                str(l_2_st),
                '[i]',
            ))
        l_2_st = missing
        t_12.extend((
            ', scale',
            str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'update_tail'), l_1_plan)),
            ')\n',
            str(l_1_pad),
            'nonfinite ',
            str(l_1_assign),
            ' verdict',
        ))
        return concat(t_12)
    context.exported_vars.add('update_calls')
    context.vars['update_calls'] = l_0_update_calls = Macro(environment, macro, 'update_calls', ('plan', 'names', 'pad', 'assign'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan):
        t_13 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        t_13.append(
            'def _column_floats(cap, units):\n    """Floats of the whole layers\' region and of a block\'s region of a work row."""\n',
        )
        for l_2_region in ['whole', 'part']:
            _loop_vars = {}
            pass
            t_13.extend((
                '    ',
                str(l_2_region),
                ' = 0\n',
            ))
            for (l_3_name, l_3_rows, l_3_cols) in environment.getitem(environment.getattr(l_1_plan, 'column_layout'), l_2_region):
                _loop_vars = {}
                pass
                t_13.extend((
                    '    ',
                    str(l_2_region),
                    ' += ',
                    str(context.call((undefined(name='lines') if l_0_lines is missing else l_0_lines), l_1_plan, l_3_rows, l_3_cols, _loop_vars=_loop_vars)),
                    '  # ',
                    str(l_3_name),
                    '\n',
                ))
            l_3_name = l_3_rows = l_3_cols = missing
        l_2_region = missing
        t_13.extend((
            '    return whole, part\n\n\ndef _shard_arrays(shards, params, rows):\n    """The column split\'s arrays for ``shards`` threads: shards, crowded (more shares than\n    threads), sync, results, checks (each share\'s update verdict, gradient squares, loss\n    and scores), work (per thread: its copies of the whole layers, the batch buffers, then\n    its block of units), parts (each share\'s partial sums) and outs (the output delta\'s\n    rows, every share\'s), every row on cache lines of\n    its own; then the rows the buffers hold and where a work row\'s block region starts.\n    One share: run() trains alone, nothing to make."""\n    if shards == 1:\n        return [1]\n    dtype = params[0].dtype\n    whole, part = _column_floats(rows, -(-',
            str(environment.getattr(environment.getitem(environment.getattr(l_1_plan, 'layers'), 0), 'n_out')),
            ' // shards))\n    work = rows_apart(shards, whole + part, dtype)\n    parts = rows_apart(shards, rows * ',
            str(environment.getattr(environment.getitem(environment.getattr(l_1_plan, 'layers'), 1), 'n_out')),
            ', dtype)\n    outs = rows_apart(1, rows * ',
            str(environment.getattr(l_1_plan, 'n_out')),
            ', dtype)[0]\n    crowded = shards > numba_thread_count()\n    return [shards, crowded, np.zeros(SYNC_SLOTS, np.int64), np.zeros(4), rows_apart(shards, 5, np.float64), work, parts, outs, rows, whole]',
        ))
        return concat(t_13)
    context.exported_vars.add('column_arrays')
    context.vars['column_arrays'] = l_0_column_arrays = Macro(environment, macro, 'column_arrays', ('plan',), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '4=36&8=38&9=49&10=52&11=55&13=66&15=77&21=86&22=96&23=97&24=98&29=116&30=124&31=128&32=131&33=135&34=139&40=148&41=158&42=160&43=164&44=169&45=176&46=179&48=192&57=206&58=218&59=219&62=220&63=224&64=226&65=232&66=234&67=236&68=238&69=241&70=245&71=249&73=258&74=260&75=263&76=267&82=280&83=288&84=289&85=290&86=291&87=292&88=305&89=307&92=312&111=315&112=320&116=328&117=331&120=337&122=340&123=345&126=353&127=356&128=360&131=365&132=367&133=370&134=374&136=377&137=381&138=385&140=391&141=393&143=395&144=397&145=399&146=401&157=405&158=407&160=409&163=411&165=413&168=415&170=418&173=424&176=426&181=428&182=444&207=446&209=448&210=450&211=452&216=454&226=456&227=459&228=462&231=467&232=469&234=471&235=474&236=478&238=481&239=485&251=490&252=492&254=494&255=496&260=501&261=513&262=527&263=543&264=547&266=568&267=570&268=574&269=590&273=598&276=606&277=611&278=614&279=619&296=630&298=632&299=634'