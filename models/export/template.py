"""Writes a weight-less ONNX graph template for one model id, which TypeScript fills with an official checkpoint's
tensors on the user's machine (models/convert/onnx-template.ts): installing a model then needs no Python.

    /usr/bin/python3 models/export/template.py <model-id> [--also ID,…] [--tiny] [--gzip] --out DIR
    npm run templates        (regenerates the committed ones in models/templates/)

Writes DIR/<id>[-tiny].template.onnx[.gz], the graphs that compute its computed buffers
(DIR/<id>.<graph>.template.onnx[.gz]) and DIR/<id>[-tiny].template.json (the cards of <model-id> and of the --also
ids, which share its architecture; the slots; how computed buffers are made; the exporter sources' sha256). The graph is the family's export
(export.py's module, inputs and names) traced WITHOUT constant folding, so every weight stays an initializer named
by its state_dict key, exactly as the checkpoint names it; onnxruntime folds the scale multiplications and
transposes when it loads the filled graph. Each initializer that is a state_dict entry becomes a slot
("frontier:checkpoint"), each of the family's COMPUTED buffers (values made after loading, e.g. StyleSwin's mean
latent) a "frontier:computed" slot; what remains (buffers the trace needed that no checkpoint holds) stays in the
graph. The JSON holds the model card (without files), the slots and the versions that made the template.
"""

import argparse
import ast
import gzip
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import onnx  # noqa: E402
import onnx.external_data_helper  # noqa: E402
import torch  # noqa: E402

import common  # noqa: E402
import export  # noqa: E402

SLOT_CHECKPOINT = 'frontier:checkpoint'
SLOT_COMPUTED = 'frontier:computed'


def trace(module, inputs, input_names, output_names, dynamic_axes):
    """The traced graph, its initializers inline, except that a graph above protobuf's 2 GiB (VQ-Diffusion's
    transformer) is traced into a folder: torch then writes each weight to a file of its own, and the initializers
    stay pointers into that folder (`folder` is returned to read the ones that are not slots; None when inline)."""
    folder = tempfile.mkdtemp(prefix='frontier-template-')
    path = os.path.join(folder, 'graph.onnx')
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        torch.onnx.export(module, inputs, path, opset_version=export.OPSET, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic_axes, do_constant_folding=False)
    return onnx.load(path, load_external_data=False), folder


def graph_tensors(graph):
    """Every tensor of the graph: initializers and the values of Constant nodes (and other tensor attributes)."""
    yield from graph.graph.initializer
    for node in graph.graph.node:
        for attr in node.attribute:
            if attr.HasField('t'):
                yield attr.t
            yield from attr.tensors


def inline_constants(graph, folder):
    """Reads back into the graph the tensors that are not slots but were written to files (a large trace writes
    initializers and Constant nodes' values alike), then removes the folder the trace wrote. Refuses a graph that still
    points at a file afterwards: the template must hold everything but its slots."""
    try:
        for tensor in graph_tensors(graph):
            if tensor.data_location != onnx.TensorProto.EXTERNAL:
                continue
            info = {e.key: e.value for e in tensor.external_data}
            if info['location'] in (SLOT_CHECKPOINT, SLOT_COMPUTED):
                continue
            onnx.external_data_helper.load_external_data_for_tensor(tensor, folder)
            tensor.data_location = onnx.TensorProto.DEFAULT
            del tensor.external_data[:]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    stray = [t.name for t in graph_tensors(graph) if t.data_location == onnx.TensorProto.EXTERNAL
             and {e.key: e.value for e in t.external_data}.get('location') not in (SLOT_CHECKPOINT, SLOT_COMPUTED)]
    if stray:
        raise common.ExportError(f'the template still refers to files for {stray[:5]}: they would be missing on install')


def mark_slots(graph, state, computed, prefix=''):
    """Empties the initializers that are state_dict entries (named `prefix` + key) or computed buffers, marking
    each as a slot; returns the slots."""
    slots = []
    for tensor in graph.graph.initializer:
        tensor.name = prefix + tensor.name
        if tensor.name in computed:
            kind = SLOT_COMPUTED
        elif tensor.name in state:
            kind = SLOT_CHECKPOINT
        else:
            continue
        tensor.ClearField('raw_data')
        for field in ('float_data', 'int32_data', 'int64_data', 'double_data', 'uint64_data'):
            tensor.ClearField(field)
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.EXTERNAL
        entry = tensor.external_data.add()
        entry.key, entry.value = 'location', kind
        slots.append({'name': tensor.name, 'kind': kind.split(':')[1],
                      'dtype': onnx.TensorProto.DataType.Name(tensor.data_type).lower(), 'dims': list(tensor.dims)})
    if prefix:  # node inputs refer to the initializers by their old names
        renamed = {t.name[len(prefix):]: t.name for t in graph.graph.initializer}
        for node in graph.graph.node:
            for i, name in enumerate(node.input):
                if name in renamed:
                    node.input[i] = renamed[name]
    return slots


def build_template(model_id, tiny):
    family = export.load_family(model_id)
    torch.manual_seed(0)  # the values are thrown away; tracing only needs some
    model = family.build(model_id, tiny)
    if hasattr(family, 'randomize'):
        family.randomize(model)
    model.eval()
    computed = set(getattr(family, 'COMPUTED', ()))
    for name in computed:  # non-persistent buffers are traced as constants: make them initializers named by key
        owner, _, leaf = name.rpartition('.')
        model.get_submodule(owner)._non_persistent_buffers_set.discard(leaf)
    spec = family.export_spec(model, model_id, tiny)
    graph, folder = trace(spec['module'], spec['inputs'], spec['input_names'], spec['output_names'],
                          spec['dynamic_axes'])
    state = spec['module'].state_dict()
    slots = mark_slots(graph, state, computed)
    inline_constants(graph, folder)
    # torch.onnx.export merges initializers of equal value (e.g. two zero biases) into one: such a template would
    # fill both layers from one checkpoint tensor. Every parameter must be a slot of its own.
    names = {s['name'] for s in slots}
    files = family.template_files(model_id, tiny) if hasattr(family, 'template_files') else []
    excused = set(getattr(family, 'UNUSED_PARAMETERS', ())) | {f['tensor'] for f in files if 'tensor' in f}
    merged = [n for n, _ in spec['module'].named_parameters() if n not in names and n not in excused]
    if merged:
        raise common.ExportError(f'{model_id}: parameters {merged[:8]} are not slots of the traced graph (merged with '
                                 f'an equal initializer, or folded): make the family\'s randomize() give distinct values')
    missing = computed - names
    if missing:
        raise common.ExportError(f'{model_id}: computed buffers {sorted(missing)} are not initializers of the graph')
    # The graphs that make the computed buffers, traced from submodules of the same model (slots named by the
    # whole model's keys, so one checkpoint fills both).
    extra, how = {}, {}
    recipes = family.compute_graphs(model, model_id, tiny) if computed else {}
    for name in sorted(computed):
        r = recipes[name]
        sub, folder = trace(model.get_submodule(r['module']), r['inputs'], r['input_names'], r['output_names'],
                            r['dynamic_axes'])
        sub_slots = mark_slots(sub, state, set(), prefix=r['module'] + '.')
        inline_constants(sub, folder)
        extra[r['graph']] = sub.SerializeToString()
        how[name] = {'graph': r['graph'], 'how': r['how'], 'samples': r['samples'], 'inputs': r['input_names'],
                     'outputs': r['output_names'], 'slots': sub_slots}
    card = family.card(model_id, tiny)
    meta = {
        'card': card,
        'slots': slots,
        'computed': how,
        'files': files,
        'opset': export.OPSET,
        'torch': torch.__version__,
        'onnx': onnx.__version__,
    }
    return graph.SerializeToString(), extra, meta


# Always pinned: the template's own code and the export path it traces through. families.py is never pinned: it only
# maps a model-id prefix to a module and shapes no graph, so adding a family does not make every template stale.
PINNED = ('template.py', 'export.py', 'common.py')


def local_imports(path, here):
    """The modules of this folder that the file at `path` imports (anywhere in it, functions included), as file
    names."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split('.')[0])
    return {f'{n}.py' for n in names if os.path.isfile(os.path.join(here, f'{n}.py'))}


def pinned_sources(model_id, here):
    """The exporter sources a family's graph depends on: PINNED, the family's module, and the modules of this folder
    it imports, transitively (swin.py for StyleSwin and SimMIM only). The walk stops at PINNED (their own imports are
    common.py and families.py) and never pins families.py."""
    family = f'{export.FAMILIES[model_id.split("-", 1)[0]]}.py'
    names, todo = set(PINNED), [family]
    while todo:
        name = todo.pop()
        if name in names or name == 'families.py':
            continue
        names.add(name)
        todo.extend(local_imports(os.path.join(here, name), here))
    return sorted(names)


def source_hashes(model_id):
    """sha256 of the exporter sources a template is made from (pinned_sources): a test compares them with the files as
    they are now, so a template cannot silently fall behind its exporter."""
    here = os.path.dirname(os.path.abspath(__file__))
    out = {}
    for name in pinned_sources(model_id, here):
        with open(os.path.join(here, name), 'rb') as f:
            out[f'models/export/{name}'] = hashlib.sha256(f.read()).hexdigest()
    return out


def write(path, data, gz):
    """Writes `data` (gzip without a timestamp when `gz`, so the same graph gives the same bytes)."""
    if gz:
        path += '.gz'
        with open(path, 'wb') as raw, gzip.GzipFile(filename='', mode='wb', fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(data)
    else:
        with open(path, 'wb') as f:
            f.write(data)
    return os.path.basename(path)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model_id')
    parser.add_argument('--also', default='', help='other model ids with the same architecture (comma-separated): '
                                                   'one template, a card for each')
    parser.add_argument('--tiny', action='store_true', help='the tiny-width architecture (tests)')
    parser.add_argument('--gzip', action='store_true', help='write the graphs gzipped (.onnx.gz), as committed')
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    family = export.load_family(args.model_id)
    also = [m for m in args.also.split(',') if m]
    for other in also:
        export.load_family(other)
        if family.config(other, args.tiny) != family.config(args.model_id, args.tiny):
            raise common.ExportError(f'{other} has another architecture than {args.model_id}: give it its own template')
    data, extra, meta = build_template(args.model_id, args.tiny)
    base = meta.pop('card')['id']
    meta = {'cards': {m: family.card(m, args.tiny) for m in [args.model_id, *also]}, **meta}
    meta['file'] = write(os.path.join(args.out, f'{base}.template.onnx'), data, args.gzip)
    meta['sha256'] = hashlib.sha256(data).hexdigest()
    for name, graph in extra.items():
        written = write(os.path.join(args.out, f'{base}.{name}.template.onnx'), graph, args.gzip)
        meta['computed'] = {k: {**v, 'file': written, 'sha256': hashlib.sha256(graph).hexdigest()}
                            if v['graph'] == name else v for k, v in meta['computed'].items()}
    meta['sources'] = source_hashes(args.model_id)
    with open(os.path.join(args.out, f'{base}.template.json'), 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=1)
        f.write('\n')
    print(f'{meta["file"]}: {len(data)} bytes, {len(meta["slots"])} slots, cards {", ".join(meta["cards"])}')


if __name__ == '__main__':
    try:
        main(sys.argv[1:])
    except common.ExportError as error:
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)
