#!/usr/bin/env python3
"""Generate the hot-path config.json validator from config.json.schema.

    .venv/bin/python tools/gen_validator.py            # rewrite the checked-in files
    .venv/bin/python tools/gen_validator.py --check    # exit 1 when they are stale
    .venv/bin/python tools/gen_validator.py --out-dir D  # write both files into D

Writes
  agentsh_runtime/spec/_generated_validator.py  (fastjsonschema's compile_to_code output)
  agentsh_runtime/data/config.json.schema       (a byte copy of the top-level schema)

fastjsonschema and jsonschema are build/test tools only: the generated module is
post-processed (on its syntax tree) so that importing it imports nothing at all
(the lifecycle path avoids even `json` and `re`, see agentsh_runtime/jsonio.py):
  - the `from fastjsonschema import ...` line is replaced by local exception
    classes with the same attributes (message, value, name, rule);
  - `from decimal import Decimal` (~2.5 ms to import) is dropped, with `Decimal`
    removed from the isinstance() tuples: config.json is parsed by `json`,
    which never yields Decimal;
  - the schema fragment fastjsonschema embeds in every raise (`definition=`)
    is dropped, which keeps the module small and quick to load;
  - `import re` and the eagerly compiled REGEX_PATTERNS become a mapping that
    imports `re` and compiles a pattern the first time a value needs it (only
    configs with process.execCPUAffinity do).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "config.json.schema"
GENERATED = ROOT / "agentsh_runtime" / "spec" / "_generated_validator.py"
DATA_COPY = ROOT / "agentsh_runtime" / "data" / "config.json.schema"

ROOT_FUNCTION = "validate"

HEADER = '''\
"""config.json validator generated from config.json.schema. DO NOT EDIT.

Regenerate with: .venv/bin/python tools/gen_validator.py
schema sha256: {sha}
generator: fastjsonschema {version} compile_to_code, post-processed (stdlib only)

validate(data) returns data or raises JsonSchemaValueException whose .name is the
path of the bad value (data.mounts[2].destination) and .message says what is wrong.
"""
# ruff: noqa
'''

EXCEPTIONS = '''
class JsonSchemaException(ValueError):
    """Base class; stands in for fastjsonschema's, which is not imported at run time."""


class JsonSchemaValueException(JsonSchemaException):
    """The data breaks the schema: message, value, name (data.x[0].y), rule."""

    def __init__(self, message, value=None, name=None, definition=None, rule=None):
        super().__init__(message)
        self.message = message
        self.value = value
        self.name = name
        self.definition = definition
        self.rule = rule


class JsonSchemaValuesException(JsonSchemaException):
    """Every error at once (only raised by code generated with fast_fail=False)."""

    def __init__(self, errors):
        self.message = "; ".join(e.message for e in errors)
        super().__init__(self.message)
        self.errors = errors
'''


LAZY_PATTERNS = '''
class _LazyPatterns(dict):
    """Compile each pattern on first use: importing this module must not import re."""

    def __missing__(self, key):
        import re

        value = self[key] = re.compile(_PATTERN_SOURCES[key])
        return value


REGEX_PATTERNS = _LazyPatterns()
'''


def _pattern_sources(stmt: ast.Assign) -> dict[str, str]:
    """{'^a$': '^a\\Z'} from `REGEX_PATTERNS = {'^a$': re.compile('^a\\Z'), ...}`."""
    if not isinstance(stmt.value, ast.Dict):
        raise SystemExit("gen_validator: REGEX_PATTERNS is not a dict literal")
    sources = {}
    for key, value in zip(stmt.value.keys, stmt.value.values, strict=True):
        if not (
            isinstance(key, ast.Constant)
            and isinstance(value, ast.Call)
            and ast.unparse(value.func) == "re.compile"
            and len(value.args) == 1
            and not value.keywords
            and isinstance(value.args[0], ast.Constant)
        ):
            raise SystemExit(f"gen_validator: unexpected pattern {ast.unparse(value)}")
        sources[key.value] = value.args[0].value
    return sources


class _Strip(ast.NodeTransformer):
    """Drop Decimal from isinstance tuples and the schema copies from raises."""

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        self.generic_visit(node)
        node.elts = [e for e in node.elts if not (isinstance(e, ast.Name) and e.id == "Decimal")]
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "JsonSchemaValueException":
            node.keywords = [kw for kw in node.keywords if kw.arg != "definition"]
        return node


def postprocess(code: str) -> str:
    tree = ast.parse(code)
    body: list[ast.stmt] = []
    inserted = False
    patterns = False
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module in ("decimal", "fastjsonschema"):
            if stmt.module == "fastjsonschema" and not inserted:
                body.extend(ast.parse(EXCEPTIONS).body)
                inserted = True
            continue
        if isinstance(stmt, ast.Import) and [a.name for a in stmt.names] == ["re"]:
            continue
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == "REGEX_PATTERNS"
        ):
            sources = _pattern_sources(stmt)
            body.extend(ast.parse(f"_PATTERN_SOURCES = {sources!r}").body)
            body.extend(ast.parse(LAZY_PATTERNS).body)
            patterns = True
            continue
        body.append(stmt)
    if not inserted:
        raise SystemExit("gen_validator: fastjsonschema's import not found; update postprocess()")
    if not patterns:
        raise SystemExit("gen_validator: REGEX_PATTERNS not found; update postprocess()")
    tree.body = body
    tree = ast.fix_missing_locations(_Strip().visit(tree))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    if "Decimal" in names:
        raise SystemExit("gen_validator: Decimal is still used by the generated code")
    for stmt in tree.body:  # module level: no imports at all
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            raise SystemExit(f"gen_validator: import left in generated code: {ast.unparse(stmt)}")
    for node in ast.walk(tree):  # anywhere: only the lazy `import re`
        if isinstance(node, ast.ImportFrom) or (
            isinstance(node, ast.Import) and [a.name for a in node.names] != ["re"]
        ):
            raise SystemExit(f"gen_validator: unexpected import {ast.unparse(node)}")
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    if ROOT_FUNCTION not in funcs:
        raise SystemExit(f"gen_validator: root function {ROOT_FUNCTION!r} not generated")
    return ast.unparse(tree) + "\n"


def generate(schema_bytes: bytes) -> str:
    import json

    import fastjsonschema

    schema = json.loads(schema_bytes)
    code = fastjsonschema.compile_to_code(
        schema, use_default=False, use_formats=False, detailed_exceptions=True, fast_fail=True
    )
    header = HEADER.format(
        sha=hashlib.sha256(schema_bytes).hexdigest(), version=fastjsonschema.VERSION
    )
    return header + postprocess(code)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the checked-in files are stale")
    ap.add_argument("--out-dir", type=Path, help="write both outputs into this directory")
    args = ap.parse_args(argv)

    schema_bytes = SCHEMA.read_bytes()
    code = generate(schema_bytes)
    gen_path, copy_path = GENERATED, DATA_COPY
    if args.out_dir:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        gen_path, copy_path = args.out_dir / GENERATED.name, args.out_dir / DATA_COPY.name

    if args.check:
        stale = [
            str(p)
            for p, want in ((gen_path, code.encode()), (copy_path, schema_bytes))
            if not p.exists() or p.read_bytes() != want
        ]
        if stale:
            print("stale (run tools/gen_validator.py): " + ", ".join(stale), file=sys.stderr)
            return 1
        return 0

    gen_path.write_text(code)
    copy_path.parent.mkdir(parents=True, exist_ok=True)
    copy_path.write_bytes(schema_bytes)
    print(f"wrote {gen_path} ({len(code)} bytes) and {copy_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
