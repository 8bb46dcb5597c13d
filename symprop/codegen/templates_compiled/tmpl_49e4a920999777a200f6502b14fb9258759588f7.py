from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'blocks.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_m = l_0_forward_node = l_0_forward_pass = l_0_backward_pass = l_0_backward_step = l_0_input_grad = l_0_header_nodes = missing
    try:
        t_1 = environment.filters['join']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'join' found.")
    try:
        t_2 = environment.tests['defined']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No test named 'defined' found.")
    pass
    l_0_m = context.vars['m'] = environment.get_template('macros.j2', 'blocks.j2')._get_default_module(context)
    context.exported_vars.discard('m')
    def macro(l_1_plan, l_1_node, l_1_pad, l_1_rows):
        t_3 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_node is missing:
            l_1_node = undefined("parameter 'node' was not provided", name='node')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_rows is missing:
            l_1_rows = 'nb'
        pass
        if (t_2(environment.getattr(l_1_node, 'kind')) and (environment.getattr(l_1_node, 'kind') == 'batchnorm')):
            pass
            t_3.extend((
                str(l_1_pad),
                'batchnorm_forward(',
                str(environment.getattr(l_1_node, 'input')),
                ', ',
                str(l_1_rows),
                ', ',
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
                ', mode == TRAIN or mode == GRADIENTS, training, ',
                str(environment.getattr(l_1_node, 'momentum')),
                ', ',
                str(environment.getattr(l_1_node, 'eps')),
                ')\n',
            ))
        elif (t_2(environment.getattr(l_1_node, 'kind')) and (environment.getattr(l_1_node, 'kind') == 'layernorm')):
            pass
            t_3.extend((
                str(l_1_pad),
                'layernorm_forward(',
                str(environment.getattr(l_1_node, 'input')),
                ', ',
                str(l_1_rows),
                ', ',
                str(environment.getattr(l_1_node, 'gamma')),
                ', ',
                str(environment.getattr(l_1_node, 'beta')),
                ', ',
                str(environment.getattr(l_1_node, 'output')),
                ', XH',
                str(environment.getattr(l_1_node, 'number')),
                ', IS',
                str(environment.getattr(l_1_node, 'number')),
                '[:, 0], ',
                str(environment.getattr(l_1_node, 'eps')),
                ')\n',
            ))
        elif t_2(environment.getattr(l_1_node, 'skip')):
            pass
            t_3.extend((
                str(l_1_pad),
                'add_rows(',
                str(environment.getattr(l_1_node, 'skip')),
                ', ',
                str(environment.getattr(l_1_node, 'body')),
                ', ',
                str(environment.getattr(l_1_node, 'output')),
                ', ',
                str(l_1_rows),
                ')\n',
            ))
        else:
            pass
            t_3.extend((
                str(l_1_pad),
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'forward_call'), l_1_plan, l_1_node, l_1_rows)),
                '\n',
            ))
            if environment.getattr(l_1_node, 'has_dropout'):
                pass
                t_3.extend((
                    str(l_1_pad),
                    'if training:\n',
                    str(l_1_pad),
                    '    dropout(A',
                    str(environment.getattr(l_1_node, 'index')),
                    ', AD',
                    str(environment.getattr(l_1_node, 'index')),
                    ', M',
                    str(environment.getattr(l_1_node, 'index')),
                    ', ',
                    str(l_1_rows),
                    ', 1.0 - p_drop',
                    str(environment.getattr(l_1_node, 'index')),
                    ')\n',
                    str(l_1_pad),
                    'else:\n',
                    str(l_1_pad),
                    '    AD',
                    str(environment.getattr(l_1_node, 'index')),
                    '[:',
                    str(l_1_rows),
                    '] = A',
                    str(environment.getattr(l_1_node, 'index')),
                    '[:',
                    str(l_1_rows),
                    ']\n',
                ))
        return concat(t_3)
    context.exported_vars.add('forward_node')
    context.vars['forward_node'] = l_0_forward_node = Macro(environment, macro, 'forward_node', ('plan', 'node', 'pad', 'rows'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_pad, l_1_rows):
        t_4 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_rows is missing:
            l_1_rows = 'nb'
        pass
        for l_2_node in environment.getattr(l_1_plan, 'nodes'):
            _loop_vars = {}
            pass
            t_4.append(
                str(context.call((undefined(name='forward_node') if l_0_forward_node is missing else l_0_forward_node), l_1_plan, l_2_node, l_1_pad, l_1_rows, _loop_vars=_loop_vars)),
            )
        l_2_node = missing
        return concat(t_4)
    context.exported_vars.add('forward_pass')
    context.vars['forward_pass'] = l_0_forward_pass = Macro(environment, macro, 'forward_pass', ('plan', 'pad', 'rows'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan, l_1_pad, l_1_rows):
        t_5 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_rows is missing:
            l_1_rows = 'nb'
        pass
        if environment.getattr(l_1_plan, 'has_blocks'):
            pass
            for l_2_step in environment.getattr(l_1_plan, 'backward_steps'):
                _loop_vars = {}
                pass
                t_5.extend((
                    str(context.call((undefined(name='backward_step') if l_0_backward_step is missing else l_0_backward_step), l_1_plan, l_2_step, l_1_pad, l_1_rows, _loop_vars=_loop_vars)),
                    '\n',
                ))
            l_2_step = missing
        else:
            pass
            t_5.extend((
                str(context.call(environment.getattr(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'backward_calls'), l_1_plan, l_1_rows, l_1_pad), 'rstrip'))),
                '\n',
            ))
        return concat(t_5)
    context.exported_vars.add('backward_pass')
    context.vars['backward_pass'] = l_0_backward_pass = Macro(environment, macro, 'backward_pass', ('plan', 'pad', 'rows'), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_plan, l_1_step, l_1_pad, l_1_rows):
        t_6 = []
        l_1_below = resolve('below')
        l_1_weights = resolve('weights')
        l_1_node = missing
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        if l_1_step is missing:
            l_1_step = undefined("parameter 'step' was not provided", name='step')
        if l_1_pad is missing:
            l_1_pad = undefined("parameter 'pad' was not provided", name='pad')
        if l_1_rows is missing:
            l_1_rows = 'nb'
        pass
        l_1_node = environment.getattr(l_1_step, 'node')
        if (environment.getattr(l_1_step, 'kind') == 'slope'):
            pass
            t_6.extend((
                str(l_1_pad),
                'slope_',
                str(environment.getattr(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'kernel_act'), 'name')),
                str(('_dropout' if environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'has_dropout') else cond_expr_undefined("the inline if-expression on line 46 in 'blocks.j2' evaluated to false and no else section was defined."))),
                '(',
                str(environment.getattr(l_1_step, 'source')),
                ', ',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'slope_source')),
                ', D',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                ', ',
                str(l_1_rows),
                str(((', M%d' % environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')) if environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'has_dropout') else '')),
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'act'), 'hyper'))),
                ')\n',
            ))
        elif (environment.getattr(l_1_step, 'kind') == 'dense'):
            pass
            t_6.extend((
                str(l_1_pad),
                'grad_',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'kernel_variant')),
                '(',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'input')),
                ', D',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                ', ',
                str(l_1_rows),
                ', d',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'weights_arg')),
                ', d',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'b')),
                ')\n',
            ))
            if environment.getattr(l_1_step, 'fused'):
                pass
                l_1_below = environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'below')
                t_6.extend((
                    str(l_1_pad),
                    str(context.call(environment.getattr(l_1_plan, 'delta_kernel'), (undefined(name='node') if l_1_node is missing else l_1_node))),
                    '(D',
                    str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                    ', ',
                    str((str_join((environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'W'), 'T', )) if context.call(environment.getattr(l_1_plan, 'keeps_transpose'), (undefined(name='node') if l_1_node is missing else l_1_node)) else environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'weights_arg'))),
                    ', ',
                    str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'slope_source')),
                    ', D',
                    str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')),
                    ', ',
                    str(l_1_rows),
                    str(((', M%d' % environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')) if environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'has_dropout') else '')),
                    str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'act'), 'hyper'))),
                    ')\n',
                ))
            elif environment.getattr(l_1_step, 'target'):
                pass
                l_1_weights = (str_join((environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'W'), 'T', )) if context.call(environment.getattr(l_1_plan, 'keeps_transpose'), (undefined(name='node') if l_1_node is missing else l_1_node)) else environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'weights_arg'))
                t_6.extend((
                    str(l_1_pad),
                    str(context.call(environment.getattr(l_1_plan, 'identity_delta_kernel'), l_1_step)),
                    '(D',
                    str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'index')),
                    ', ',
                    str((undefined(name='weights') if l_1_weights is missing else l_1_weights)),
                    ', ',
                    str(environment.getattr(l_1_step, 'target')),
                    str((str_join((', ', environment.getattr(l_1_step, 'target'), )) if (not environment.getattr(l_1_step, 'scratch')) else cond_expr_undefined("the inline if-expression on line 54 in 'blocks.j2' evaluated to false and no else section was defined."))),
                    ', ',
                    str(l_1_rows),
                    ')\n',
                ))
        elif (environment.getattr(l_1_step, 'kind') == 'norm'):
            pass
            t_6.extend((
                str(l_1_pad),
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'kind')),
                '_backward',
                str(environment.getattr(l_1_step, 'slope_suffix')),
                '(',
                str(environment.getattr(l_1_step, 'source')),
                ', XH',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'number')),
                ', IS',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'number')),
                str(('[:, 0]' if (environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'kind') == 'layernorm') else cond_expr_undefined("the inline if-expression on line 57 in 'blocks.j2' evaluated to false and no else section was defined."))),
                ', ',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'gamma')),
                ', ',
                str(l_1_rows),
                ', ',
                str(environment.getattr(l_1_step, 'target')),
                ', d',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'gamma')),
                ', d',
                str(environment.getattr((undefined(name='node') if l_1_node is missing else l_1_node), 'beta')),
                ', ',
                str(context.call((undefined(name='input_grad') if l_0_input_grad is missing else l_0_input_grad), l_1_step)),
                ')\n',
            ))
        elif (environment.getattr(l_1_step, 'kind') == 'copy'):
            pass
            t_6.extend((
                str(l_1_pad),
                'copy_rows(',
                str(environment.getattr(l_1_step, 'target')),
                ', ',
                str(environment.getattr(l_1_step, 'source')),
                ', ',
                str(l_1_rows),
                ')\n',
            ))
        elif (environment.getattr(l_1_step, 'kind') == 'add'):
            pass
            t_6.extend((
                str(l_1_pad),
                'accumulate(',
                str(environment.getattr(l_1_step, 'target')),
                ', ',
                str(environment.getattr(l_1_step, 'source')),
                ', ',
                str(l_1_rows),
                ')\n',
            ))
        return concat(t_6)
    context.exported_vars.add('backward_step')
    context.vars['backward_step'] = l_0_backward_step = Macro(environment, macro, 'backward_step', ('plan', 'step', 'pad', 'rows'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_step):
        t_7 = []
        l_1_below = resolve('below')
        if l_1_step is missing:
            l_1_step = undefined("parameter 'step' was not provided", name='step')
        pass
        if environment.getattr(l_1_step, 'slope'):
            pass
            l_1_below = environment.getattr(l_1_step, 'slope')
            t_7.extend((
                str(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'slope_source')),
                str(((', M%d' % environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'index')) if environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'has_dropout') else '')),
                str(context.call(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'tail'), environment.getattr(environment.getattr((undefined(name='below') if l_1_below is missing else l_1_below), 'act'), 'hyper'))),
            ))
        else:
            pass
            t_7.append(
                str(('GRAD_NONE' if environment.getattr(l_1_step, 'sink') else ('GRAD_ADD' if environment.getattr(l_1_step, 'scratch') else 'GRAD_WRITE'))),
            )
        return concat(t_7)
    context.exported_vars.add('input_grad')
    context.vars['input_grad'] = l_0_input_grad = Macro(environment, macro, 'input_grad', ('step',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_plan):
        t_8 = []
        if l_1_plan is missing:
            l_1_plan = undefined("parameter 'plan' was not provided", name='plan')
        pass
        if environment.getattr(l_1_plan, 'has_blocks'):
            pass
            t_8.append(
                "Nodes are numbered depth first over the whole architecture, a block before its body (W and b\nkeep the dense layers' own numbers):\n",
            )
            def t_9(fiter):
                for l_2_node in fiter:
                    if t_2(environment.getattr(l_2_node, 'number')):
                        yield l_2_node
            for l_2_node in t_9(environment.getattr(l_1_plan, 'blocks')):
                _loop_vars = {}
                pass
                if t_2(environment.getattr(l_2_node, 'kind')):
                    pass
                    t_8.extend((
                        'Node ',
                        str(environment.getattr(l_2_node, 'number')),
                        '    ',
                        str(environment.getattr(l_2_node, 'kind')),
                        ' of ',
                        str(environment.getattr(l_2_node, 'n')),
                        ' units, eps ',
                        str(environment.getattr(l_2_node, 'eps')),
                        str(((', momentum %s' % environment.getattr(l_2_node, 'momentum')) if (environment.getattr(l_2_node, 'kind') == 'batchnorm') else cond_expr_undefined("the inline if-expression on line 84 in 'blocks.j2' evaluated to false and no else section was defined."))),
                        ': H = gamma * (x - mu) / sqrt(var + eps) + beta\n',
                    ))
                else:
                    pass
                    t_8.extend((
                        'Node ',
                        str(environment.getattr(l_2_node, 'number')),
                        '    residual block: H',
                        str(environment.getattr(l_2_node, 'number')),
                        ' = ',
                        str(environment.getattr(l_2_node, 'skip')),
                        ' + ',
                        str(environment.getattr(l_2_node, 'body')),
                        " (its input plus its body's output)\n",
                    ))
            l_2_node = missing
            t_8.extend((
                'Parameters in argument order: ',
                str(t_1(context.eval_ctx, environment.getattr(l_1_plan, 'params'), ', ')),
            ))
            if environment.getattr(l_1_plan, 'persistent'):
                pass
                t_8.extend((
                    '; after them the\nrunning means and variances of batch normalization: ',
                    str(t_1(context.eval_ctx, environment.getattr(l_1_plan, 'persistent'), ', ')),
                ))
            t_8.append(
                '.\n',
            )
        return concat(t_8)
    context.exported_vars.add('header_nodes')
    context.vars['header_nodes'] = l_0_header_nodes = Macro(environment, macro, 'header_nodes', ('plan',), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '3=24&5=26&6=37&7=40&8=67&9=70&10=89&11=92&13=106&14=110&15=113&16=115&17=127&18=129&25=143&26=152&27=156&33=162&34=171&35=173&36=177&39=184&43=191&44=205&45=206&46=209&47=225&48=228&49=243&50=245&51=247&52=263&53=265&54=267&56=280&57=283&58=308&59=311&60=320&61=323&67=335&68=341&69=343&70=345&72=352&78=357&79=362&82=367&83=374&84=378&86=392&89=404&90=410'