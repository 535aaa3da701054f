"""Model-id prefix → family module in this folder (export.py and template.py look families up here).

A table of its own, apart from export.py, because the committed graph templates pin the sha256 of the exporter
sources they were made from (template.py source_hashes): this table shapes no graph, so adding a family here leaves
every other family's templates current. Modules are imported only when used, so one family's dependencies never
block another.
"""

FAMILIES = {
    'styleswin': 'styleswin',
    'gram': 'gram',
    'simmim': 'simmim',
    'vqdiffusion': 'vqdiffusion',
    'ttvsr': 'ttvsr',
}
