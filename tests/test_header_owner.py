"""Only wsinspector/core/model/header.py knows where a field of the packed frame header sits.

The source tree (the package, the tests and the benchmarks) is read as Python syntax trees. Outside the
header module:

- nothing shifts the packed integer (an expression with ``<<`` or ``>>`` on a value named ``meta``);
- nothing masks or sets its bits with a number written out (``meta & 0xF``, ``meta | (1 << 16)``): a mask
  is one of the header module's named constants;
- nothing defines a layout value of its own: a constant bit expression (``1 << 16``) equal to one of the
  header module's masks or flags, a mask-like name (``*_BIT``, ``*_MASK``, ``*_SHIFT``, ``*META*``...) set
  to one of them (``0x10``) or to one of its bit positions, or a name the header module exports.

The packed integer is called ``meta`` wherever it is kept (columns, rows, matchers); bit operations on
other values (the WebSocket frame parser's ``b0 & 0x0F``, a store key's ``session_id << SEQ_BITS``) are not
the layout and are left alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from wsinspector.core.model import header

ROOT = Path(__file__).resolve().parents[1]
OWNER = ROOT / "wsinspector" / "core" / "model" / "header.py"
SCANNED = ("wsinspector", "tests", "bench")

_BIT_OPS = (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)
_SHIFTS = (ast.LShift, ast.RShift)
_BIT_WORDS = frozenset({"BIT", "BITS", "MASK", "SHIFT", "FLAG", "FLAGS"})
#: the public names of the layout
_EXPORTED = frozenset(name for name in header.__all__ if name.isupper())
#: every mask and flag value the layout has
_LAYOUT_VALUES = frozenset(
    {getattr(header, name) for name in _EXPORTED if isinstance(getattr(header, name), int)}
    | {0b11 << shift for _, shift in header.TRI_FIELDS}
)
#: every bit position the layout uses
_POSITIONS = frozenset(
    {shift for _, shift in header.TRI_FIELDS}
    | {value.bit_length() - 1 for value in (header.OUT_BIT, header.COMPLETES, header.LENGTH_IS_PAYLOAD)}
)


def _names_packed(node: ast.AST) -> bool:
    """Whether the expression reads a value named like the packed integer (``meta``, ``chunk.meta[i]``)."""
    for sub in ast.walk(node):
        name = sub.id if isinstance(sub, ast.Name) else sub.attr if isinstance(sub, ast.Attribute) else None
        if name is not None and "meta" in name.lower():
            return True
    return False


def _has_number(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Constant) and type(sub.value) is int for sub in ast.walk(node))


def _constant_int(node: ast.AST) -> int | None:
    """The value of an expression made of integer literals and operators only, else None."""
    if not all(isinstance(sub, ast.Constant | ast.BinOp | ast.UnaryOp | ast.operator | ast.unaryop)
               and not isinstance(sub, ast.Pow) for sub in ast.walk(node)):
        return None
    try:
        value = eval(compile(ast.Expression(node), "<layout>", "eval"), {"__builtins__": {}})
    except Exception:
        return None
    return value if type(value) is int else None


def _is_bit_expression(node: ast.expr) -> bool:
    return any(isinstance(sub, ast.BinOp) and isinstance(sub.op, _BIT_OPS) for sub in ast.walk(node))


def _is_bit_literal(node: ast.expr, source: str) -> bool:
    return (ast.get_source_segment(source, node) or "").lower().startswith(("0x", "0b"))


def _bit_name(name: str) -> bool:
    """A name for a mask, a flag or a position (``_OUT_BIT``, ``FIN_SHIFT``, ``META_FLAGS``)."""
    return "META" in name.upper() or bool(set(name.upper().split("_")) & _BIT_WORDS)


def layout_code(source: str) -> list[tuple[int, str]]:
    """(line, why) of every place in ``source`` that does the header module's work."""
    found: list[tuple[int, str]] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, _BIT_OPS):
            left = node.left if isinstance(node, ast.BinOp) else node.target
            right = node.right if isinstance(node, ast.BinOp) else node.value
            if not (_names_packed(left) or _names_packed(right)):
                continue
            if isinstance(node.op, _SHIFTS):
                found.append((node.lineno, "shifts the packed header"))
            elif _has_number(left) or _has_number(right):
                found.append((node.lineno, "masks the packed header with a number, not a named constant"))
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if any(name in _EXPORTED for name in names):
                found.append((node.lineno, f"defines {', '.join(names)}, a name of the header layout"))
                continue
            value = _constant_int(node.value)
            if value is None:
                continue
            bit_named = any(_bit_name(name) for name in names)
            if value in _LAYOUT_VALUES and (_is_bit_expression(node.value)
                                            or (bit_named and _is_bit_literal(node.value, source))):
                found.append((node.lineno, f"defines a layout mask or flag ({value:#x})"))
            elif value in _POSITIONS and bit_named:
                found.append((node.lineno, f"defines a layout bit position ({value})"))
    return sorted(found)


def _files() -> list[Path]:
    return sorted(path for top in SCANNED for path in (ROOT / top).rglob("*.py")
                  if path != OWNER and ".venv" not in path.parts)


def test_only_the_header_module_knows_the_layout() -> None:
    offenders = [f"{path.relative_to(ROOT)}:{line}: {why}"
                 for path in _files() for line, why in layout_code(path.read_text(encoding="utf-8"))]
    assert not offenders, "\n".join(offenders)


def test_the_header_module_does_its_own_work() -> None:
    """The owner itself is what the check would flag anywhere else (so the check looks at the right things)."""
    assert layout_code(OWNER.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "code",
    [
        "fin = (meta >> 5) & 3",
        "out = row_meta >> 4 & 1",
        "opcodes = np.frombuffer(chunk.meta, dtype=np.uint32) & 0xF",
        "kind = meta & 31",
        "meta |= 1 << 16",
        "stored = metas & (STORED | (1 << 17))",
        "_COMPLETES = 1 << 16",
        "_OUT_BIT = 0x10",
        "_OPCODE_MASK = 0xF",
        "HEADER = (1 << 16) - 1",
        "_FIN_SHIFT = 5",
        "OUT_BIT = header.OUT_BIT",
        "x: int = 0b11 << 13",
    ],
)
def test_layout_code_is_found(code: str) -> None:
    assert layout_code(code), code


@pytest.mark.parametrize(
    "code",
    [
        # the WebSocket frame parser reads real wire bytes, not the layout
        "opcode = b0 & 0x0F\nfin = bool(b0 & 0x80)\nlength = (data[pos] << 8) | data[pos + 1]",
        # a store key, chunk sizes, a rowid range
        "key = (session_id << SEQ_BITS) | seq\nSEQ_MASK = (1 << SEQ_BITS) - 1\nCHUNK_BYTES = 1 << 20",
        # the named constants of the header module, in a hot loop or bound once
        "_KIND_BITS = header.KIND_BITS\nok = (meta & _KIND_BITS) in allowed\nmeta |= header.COMPLETES",
        "metas = header.stored_column(np.frombuffer(data, dtype=np.uint32))",
        "OPEN_FRAMES = 256\nRETRIES = 5\nSEQ_BITS = 32\nMIN_MASKED_LENGTH = 4\nOPEN_BYTES = 64 * 1024",
        "FAST_FRAME_MAX = 0xFFFF  # the most a 16-bit length says",
        "FAST_FRAME_MAX = 256 * 1024",
    ],
)
def test_other_bit_code_is_left_alone(code: str) -> None:
    assert not layout_code(code), code
