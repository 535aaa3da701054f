# Micro graphs for bench:gap's experiments (npm run bench:gap -- --models micro-…): one op or one rewrite each, with
# seeded random weights, written as <name>.onnx into the folder given. Run with Debian's python3 (onnx, numpy).
import sys, os
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

out = sys.argv[1]
rng = np.random.default_rng(0)


def save(name, nodes, inputs, outputs, inits):
    g = helper.make_graph(nodes, name, inputs, outputs, [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, name + '.onnx'))


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def conv(name, cin, cout, k, size, relu=True, dynamic=False):
    w = (rng.standard_normal((cout, cin, k, k)) / np.sqrt(cin * k * k)).astype(np.float32)
    b = (0.01 * rng.standard_normal(cout)).astype(np.float32)
    nodes = [helper.make_node('Conv', ['x', 'w', 'b'], ['y' if not relu else 'c'], pads=[k // 2] * 4)]
    if relu:
        nodes.append(helper.make_node('Relu', ['c'], ['y']))
    hw = ['height', 'width'] if dynamic else [size, size]
    save(name, nodes, [vi('x', [1, cin, *hw])], [vi('y', [1, cout, *hw])], {'w': w, 'b': b})


# SPyNet's 7x7 convolutions at the 64-px level (ttvsr-reds-flow's costliest kernels) and 3x3 ones of similar size.
conv('micro-conv7-64to32', 64, 32, 7, 64)
conv('micro-conv7-32to64', 32, 64, 7, 64)
conv('micro-conv7-64to32-dynamic', 64, 32, 7, 64, dynamic=True)
conv('micro-conv3-64to64', 64, 64, 3, 64)
# The same 7x7 convolution on SPyNet's small pyramid levels.
conv('micro-conv7-64to32-s8', 64, 32, 7, 8)
conv('micro-conv7-64to32-s16', 64, 32, 7, 16)
conv('micro-conv5-64to64', 64, 64, 5, 64)

# LayerNormalization over 1024 channels at SimMIM stage-3 sizes, fused vs the same in plain ops.
def layer_norm(name, fused, rows=144, width=512):
    g = np.ones(width, np.float32)
    b = np.zeros(width, np.float32)
    if fused:
        nodes = [helper.make_node('LayerNormalization', ['x', 'g', 'b'], ['y'], axis=-1, epsilon=1e-5)]
        inits = {'g': g, 'b': b}
    else:
        nodes = [
            helper.make_node('ReduceMean', ['x'], ['mean'], axes=[-1]),
            helper.make_node('Sub', ['x', 'mean'], ['d']),
            helper.make_node('Mul', ['d', 'd'], ['d2']),
            helper.make_node('ReduceMean', ['d2'], ['var'], axes=[-1]),
            helper.make_node('Add', ['var', 'eps'], ['ve']),
            helper.make_node('Sqrt', ['ve'], ['sd']),
            helper.make_node('Div', ['d', 'sd'], ['n']),
            helper.make_node('Mul', ['n', 'g'], ['ng']),
            helper.make_node('Add', ['ng', 'b'], ['y']),
        ]
        inits = {'g': g, 'b': b, 'eps': np.array(1e-5, np.float32)}
    save(name, nodes, [vi('x', [1, rows, width])], [vi('y', [1, rows, width])], inits)


layer_norm('micro-layernorm', True)
layer_norm('micro-layernorm-plain', False)

# MatMul at SimMIM's costliest shape: [144, 512] x [512, 2048].
w = (rng.standard_normal((512, 2048)) / np.sqrt(512)).astype(np.float32)
save('micro-matmul-144x512x2048', [helper.make_node('MatMul', ['x', 'w'], ['y'])], [vi('x', [1, 144, 512])], [vi('y', [1, 144, 2048])], {'w': w})
print('ok')
