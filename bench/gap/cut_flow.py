# Cuts TTVSR's flow graph (SPyNet) in two for bench:gap's experiments: its last, 64-px level (five 7x7 convolutions,
# input renamed 'x' at 64x64) and everything before it (the 2-32 px levels and grid sampling, up to the last level's
# input). Usage: cut_flow.py FLOW.onnx OUTDIR  (Debian's python3 with onnx)
import os, sys
import onnx, onnx.utils

src, out = sys.argv[1], sys.argv[2]
m = onnx.load(src)
convs = [n for n in m.graph.node if n.op_type == 'Conv']
first, last = convs[-5].input[0], convs[-1].output[0]
module = os.path.join(out, 'micro-flow-module64.onnx')
onnx.utils.extract_model(src, module, [first], [last])
g = onnx.load(module)
g.graph.input[0].name = 'x'
for n in g.graph.node:
    n.input[:] = ['x' if i == first else i for i in n.input]
for d, v in zip(g.graph.input[0].type.tensor_type.shape.dim[2:], (64, 64)):
    d.dim_value = v
onnx.save(g, module)
onnx.utils.extract_model(src, os.path.join(out, 'micro-flow-pre64.onnx'), ['reference', 'supporting'], [first])
print('cut at', first)
