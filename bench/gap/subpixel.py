# Rewrites "nearest Resize ×s → Conv k×k" (ESRGAN slim's upsampling tail) into "Conv on the low-resolution input with
# Cout·s² outputs → DepthToSpace(s, CRD)": the same function (the upsampled image repeats each pixel s×s times, so
# each of the s² output phases is a small convolution of the low-resolution input with summed taps), the same MACs,
# but no s²-times larger intermediate, no Resize, and a GEMM with Cout·s² rows instead of Cout (3 for RGB), which
# onnxruntime-web's WASM kernels handle far better. Usage: subpixel.py IN.onnx OUT.onnx
# The converter now emits this form itself (models/convert/onnx-subpixel.ts, the same weight arithmetic), so on the
# shipped slim/medium graphs this finds no Resize and rewrites nothing; it stays for graphs built before that.
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper


def rewrite(model):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    done = 0
    for resize in list(g.node):
        if resize.op_type != 'Resize':
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in resize.attribute}
        if attrs.get('mode') != b'nearest' or attrs.get('coordinate_transformation_mode') != b'asymmetric' or attrs.get('nearest_mode', b'round_prefer_floor') != b'floor':
            continue
        scales = numpy_helper.to_array(inits[resize.input[2]]) if len(resize.input) > 2 and resize.input[2] in inits else None
        if scales is None or len(scales) != 4 or scales[0] != 1 or scales[1] != 1 or scales[2] != scales[3] or scales[2] != int(scales[2]):
            continue
        s = int(scales[2])
        users = consumers.get(resize.output[0], [])
        if len(users) != 1 or users[0].op_type != 'Conv':
            continue
        conv = users[0]
        c = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
        w = numpy_helper.to_array(inits[conv.input[1]])
        cout, cin, kh, kw = w.shape
        if c.get('strides', [1, 1]) != [1, 1] or c.get('dilations', [1, 1]) != [1, 1] or c.get('group', 1) != 1 or kh != kw or kh % 2 == 0:
            continue
        p = kh // 2
        if c.get('pads', [p] * 4) != [p] * 4:
            continue
        lo = -((p + s - 1) // s)  # floor(-p / s)
        hi = (s - 1 + p) // s  # floor((s - 1 + p) / s)
        k2 = hi - lo + 1
        w2 = np.zeros((cout, s, s, cin, k2, k2), np.float64)
        for a in range(s):
            for u in range(-p, p + 1):
                dy = (a + u) // s - lo
                for b in range(s):
                    for v in range(-p, p + 1):
                        dx = (b + v) // s - lo
                        w2[:, a, b, :, dy, dx] += w[:, :, u + p, v + p]
        w2 = w2.reshape(cout * s * s, cin, k2, k2).astype(np.float32)
        bias = numpy_helper.to_array(inits[conv.input[2]]) if len(conv.input) > 2 and conv.input[2] else np.zeros(cout, np.float32)
        b2 = np.repeat(bias, s * s).astype(np.float32)
        wn, bn, mid = conv.name + '_subpixel_w', conv.name + '_subpixel_b', conv.name + '_subpixel'
        g.initializer.extend([numpy_helper.from_array(w2, wn), numpy_helper.from_array(b2, bn)])
        new_conv = helper.make_node('Conv', [resize.input[0], wn, bn], [mid], name=conv.name + '_subpixel', kernel_shape=[k2, k2], pads=[-lo, -lo, hi, hi], strides=[1, 1], dilations=[1, 1])
        d2s = helper.make_node('DepthToSpace', [mid], [conv.output[0]], name=conv.name + '_d2s', blocksize=s, mode='CRD')
        idx = list(g.node).index(conv)
        g.node.remove(conv)
        g.node.insert(idx, d2s)
        g.node.insert(idx, new_conv)
        g.node.remove(resize)
        done += 1
    used = {i for n in g.node for i in n.input}
    for t in list(g.initializer):
        if t.name not in used:
            g.initializer.remove(t)
    return done


if __name__ == '__main__':
    m = onnx.load(sys.argv[1])
    n = rewrite(m)
    onnx.checker.check_model(m)
    onnx.save(m, sys.argv[2])
    print(f'rewrote {n} Resize+Conv pair(s)')
