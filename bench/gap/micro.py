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

print('ok')
