"""Reading, writing and checking the result files of :class:`~lindblad.fluxes.HeatFluxes`
and :class:`~lindblad.counting.HeatStatistics`.

Every file carries a SHA-256 checksum of its data (CSV: a ``# sha256: <hex>`` comment
line over the data rows; npz: an array ``sha256`` over the other arrays), verified on
load.  Every load, checksum or not, also checks what the result type requires (finite
numbers, increasing times, consistent shapes, ...): :func:`check_times`,
:func:`check_numbers`, :func:`check_row_count` and :func:`check_final_state` here, one
check per result type in its module.  A file written before checksums existed loads
with a :class:`UserWarning` once it has passed those checks (:func:`warn_unverified`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np

PARAMETERS = "# parameters: "
PARTIAL = "# partial: "
CHECKSUM = "# sha256: "
#: Name of the checksum array in a ``.npz`` file.
NPZ_CHECKSUM = "sha256"


def file_error(path: Path, why: str) -> ValueError:
    """``ValueError("<path>: <why>")``."""
    return ValueError(f"{path}: {why}")


def parse_parameters(text: str, path: Path) -> dict[str, Any]:
    """The parameters JSON of a saved result (``NaN`` and ``Infinity`` allowed)."""
    try:
        parameters = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: the saved parameters are not valid JSON ({exc})") from exc
    if not isinstance(parameters, dict):
        raise ValueError(f"{path}: the saved parameters are a {type(parameters).__name__}, "
                         f"not a JSON object")
    return parameters


def not_ours(path: Path, what: str):
    """A factory of ``ValueError("<path> is not a <what> CSV written by save(): ...")``."""
    def error(why: str) -> ValueError:
        return ValueError(f"{path} is not a {what} CSV written by save(): {why}")
    return error


def _rows_digest(rows: list[str], header: str, parameters: str, partial: bool) -> str:
    """SHA-256 of what a CSV says: its column names, its parameters (the JSON text as
    written), whether it is partial, and its data rows, each followed by a newline
    (UTF-8).  Editing any of them, not only a number, breaks the checksum."""
    digest = hashlib.sha256()
    for line in (header, parameters, "partial" if partial else "complete", *rows):
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def write_csv_table(path: Path, columns: dict[str, np.ndarray], parameters_json: str,
                    partial: bool) -> Path:
    """Write a result CSV of this package: the column names, ``# parameters:`` (JSON),
    ``# partial:`` when interrupted, ``# sha256:`` (the checksum of the data rows), then
    one row per entry with exact ``repr`` floats."""
    rows = [",".join(repr(float(v)) for v in row)
            for row in zip(*columns.values(), strict=True)]
    header = io.StringIO()
    csv.writer(header, lineterminator="").writerow(columns)
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write(header.getvalue() + "\n")
        fh.write(f"{PARAMETERS}{parameters_json}\n")
        if partial:
            fh.write(f"{PARTIAL}the run was interrupted before it finished\n")
        fh.write(f"{CHECKSUM}{_rows_digest(rows, header.getvalue(), parameters_json, partial)}\n")
        fh.writelines(row + "\n" for row in rows)
    return path


def read_csv_table(path: Path, what: str
                   ) -> tuple[list[str], dict[str, np.ndarray], dict[str, Any], bool, bool]:
    """Read a result CSV of this package (names first, ``# `` comment lines anywhere,
    numeric rows; a UTF-8 byte-order mark is skipped).

    Returns
    -------
    (header, columns by name, parameters, partial, verified)
        ``verified``: the file carries a checksum (and it matched).

    Raises
    ------
    ValueError
        Naming the file (``what`` names the expected result type) if it is not text, not
        comma-separated, has no header or no data rows, repeated or ragged columns, a value
        that is not a number, or a checksum that does not match its rows.
    """
    error = not_ours(path, what)
    try:  # lines end in \n or \r\n only (not at \v, \f, ... as str.splitlines would)
        lines = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n").split("\n")
    except UnicodeDecodeError as exc:
        raise error("it is not UTF-8 text") from exc
    except OSError as exc:
        raise ValueError(f"{path} cannot be read ({exc})") from exc
    table = [line for line in lines if line.strip() and not line.startswith("#")]
    if not table:
        raise error("it has no row of column names")
    if "," not in table[0] and ";" in table[0]:
        raise ValueError(f"{path} is not a comma-separated file written by save(): its "
                         f"column names are separated by ';' (write it back with ',')")
    strange = [line for line in lines if line.startswith("#")
               and not line.startswith((PARAMETERS, PARTIAL, CHECKSUM))]
    if strange:  # e.g. a damaged checksum line, which must not pass for an absent one
        raise error(f"it has a comment line save() does not write ({strange[0][:60]!r}; "
                    f"save() writes '{PARAMETERS.strip()}', '{PARTIAL.strip()}' and "
                    f"'{CHECKSUM.strip()}' lines only)")
    parameters, partial, checksum, parameters_text = {}, False, None, ""
    for line in lines:
        if line.startswith(PARAMETERS):
            parameters_text = line[len(PARAMETERS):]
            parameters = parse_parameters(parameters_text, path)
        elif line.startswith(PARTIAL):
            partial = True
        elif line.startswith(CHECKSUM):
            checksum = line[len(CHECKSUM):].strip()
    header_line, *rows = table
    actual = _rows_digest(rows, header_line, parameters_text, partial)
    if checksum is not None and actual != checksum:
        raise ValueError(f"{path} was modified or truncated after it was written (checksum "
                         f"of its names, parameters and rows {actual[:12]}..., recorded "
                         f"{checksum[:12]}...)")
    header = next(csv.reader([header_line]))
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise error(f"column(s) {', '.join(repeated)} appear more than once")
    if not rows:
        raise error("it has no data rows (only the column names)")
    cells = list(csv.reader(rows))
    if any(len(row) != len(header) for row in cells):
        raise error(f"its rows do not all have the {len(header)} columns of its header")
    try:
        values = np.array(cells, dtype=float).reshape(len(cells), len(header))
    except ValueError as exc:
        raise error(f"a value is not a number ({exc})") from exc
    columns = dict(zip(header, values.T, strict=True))
    return header, columns, parameters, partial, checksum is not None


def _arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the arrays sorted by name: name, dtype, shape and bytes of each."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}\n{value.dtype.str}\n{value.shape}\n".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """``numpy.savez`` the arrays plus ``sha256``, their checksum."""
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    np.savez(path, **arrays, **{NPZ_CHECKSUM: np.array(_arrays_digest(arrays))})
    return path


def read_npz_arrays(path: Path, what: str, required: tuple[str, ...]
                    ) -> tuple[dict[str, np.ndarray], bool]:
    """The arrays of a result ``.npz`` of this package, by name, read without pickles.

    Returns
    -------
    (arrays, verified)
        ``verified``: the file carries a checksum (and it matched); ``arrays`` without it.

    Raises
    ------
    ValueError
        Naming the file (``what`` names the expected result type) if it is not a ``.npz``
        archive or is damaged (empty, truncated, a changed byte, an object array), lacks
        one of the ``required`` arrays, or its checksum does not match its arrays.
    """
    def damaged(why: str) -> ValueError:
        return ValueError(f"{path} is not a .npz file written by {what}.save ({why})")

    try:  # opened here, so that it is closed whatever numpy or zipfile raise
        fh = path.open("rb")
    except OSError as exc:
        raise damaged(f"{type(exc).__name__}: {exc}") from exc
    with fh:
        try:
            archive = np.load(fh, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise damaged("it is a single .npy array")
            with archive:
                listed = _zip_entries(fh)
                if listed is None or (listed != 0xFFFF and listed != len(archive.files)):
                    raise damaged(
                        "its zip directory is damaged: its end record lists "
                        f"{listed} entries, {len(archive.files)} can be read" if listed
                        is not None else "no zip end record in its last 22 bytes, where "
                        "numpy.savez writes it")
                arrays = {k: archive[k] for k in archive.files}
        except ValueError as exc:
            if str(exc).startswith(str(path)):
                raise
            raise damaged(f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            # a damaged archive makes zipfile and numpy raise almost anything: BadZipFile
            # (CRC), zlib.error, EOFError, RuntimeError (a flipped 'encrypted' flag),
            # tokenize.TokenError or SyntaxError (a damaged .npy header), MemoryError (a
            # damaged shape), ...
            raise damaged(f"{type(exc).__name__}: {exc}") from exc
    missing = [k for k in required if k not in arrays]
    if missing:
        raise ValueError(f"{path} is not a {what} .npz file: it has no "
                         f"{', '.join(missing)} (it has {', '.join(arrays) or 'nothing'})")
    checksum = arrays.pop(NPZ_CHECKSUM, None)
    if checksum is not None:
        recorded = str(checksum) if checksum.ndim == 0 and checksum.dtype.kind == "U" else ""
        actual = _arrays_digest(arrays)
        if actual != recorded:
            raise ValueError(f"{path} was modified or truncated after it was written "
                             f"(checksum of its arrays {actual[:12]}..., recorded "
                             f"{recorded[:12] or repr(checksum)[:40]}...)")
    return arrays, checksum is not None


def _zip_entries(fh) -> int | None:
    """The number of entries the zip end record lists (the last 22 bytes of an archive
    written by ``numpy.savez``, which writes no comment); None if there is none.  zipfile
    does not compare it with the entries it parses, so a damaged length in the central
    directory silently hides the entries after it (the checksum, ``final_state``, ...)."""
    fh.seek(0, 2)
    if fh.tell() < 22:
        return None
    fh.seek(-22, 2)
    record = fh.read(22)
    if record[:4] != b"PK\x05\x06":
        return None
    return struct.unpack("<H", record[10:12])[0]


def npz_partial(value: np.ndarray, path: Path) -> bool:
    """The ``partial`` flag of a ``.npz``: a boolean scalar array."""
    if value.dtype != np.bool_ or value.shape != ():
        raise file_error(path, f"'partial' must be a boolean scalar, got an array of dtype "
                               f"{value.dtype} and shape {value.shape}")
    return bool(value)


def warn_unverified(path: Path) -> None:
    """Warn that a file without a checksum (written before checksums) cannot be verified."""
    warnings.warn(f"{path} has no checksum (written by an older version): it passed the "
                  f"structural checks, but truncation or editing cannot be ruled out",
                  UserWarning, stacklevel=3)


def as_array(value: Any, name: str, ndim: int, path: Path) -> np.ndarray:
    """``value`` as a real float array of ``ndim`` dimensions, or a ``ValueError``."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu" or arr.ndim != ndim:
        raise file_error(path, f"'{name}' must be a real {ndim}-D array, got dtype "
                               f"{arr.dtype} and shape {arr.shape}")
    return arr.astype(float, copy=False)


def check_times(t: np.ndarray, path: Path) -> None:
    """Times: at least one, finite, >= 0 and strictly increasing."""
    if t.size == 0:
        raise file_error(path, "it has no times (no data rows)")
    if not np.all(np.isfinite(t)):
        raise file_error(path, f"the times must be finite, got {float(t[~np.isfinite(t)][0])!r}")
    if t[0] < 0:
        raise file_error(path, f"the times must be >= 0, got t = {float(t[0])!r}")
    steps = np.diff(t)
    if np.any(steps <= 0):
        k = int(np.argmax(steps <= 0))
        raise file_error(path, f"the times must increase strictly, got t = {float(t[k])!r} then "
                               f"{float(t[k + 1])!r} (rows {k + 1} and {k + 2}: reordered, "
                               f"repeated or edited)")


def check_numbers(arr: np.ndarray, name: str, path: Path, stderr: bool = False) -> None:
    """Every number finite; standard errors (``stderr``) may be NaN (fewer than two
    samples or groups) but never infinite or negative."""
    bad = np.isnan(arr) if not stderr else np.zeros(arr.shape, bool)
    bad |= np.isinf(arr)
    if stderr:
        bad |= arr < 0
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        allowed = "finite and >= 0 (or NaN)" if stderr else "finite"
        raise file_error(path, f"'{name}' must be {allowed}, got {float(arr[index])!r} at "
                               f"index {index}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def check_row_count(n_t: int, parameters: dict[str, Any], partial: bool, path: Path) -> None:
    """A finished engine run (``dt``, ``t_max``, ``save_every`` recorded) has
    ``floor(t_max / dt) // save_every + 1`` saved times."""
    dt, t_max, every = (_number(parameters.get(k)) for k in ("dt", "t_max", "save_every"))
    if partial or dt is None or t_max is None or every is None or dt <= 0 or every < 1:
        return
    steps = math.floor(t_max / dt * (1 + 1e-12))
    expected = steps // int(every) + 1
    if n_t != expected:
        raise file_error(path, f"it has {n_t} times, but a finished run with t_max = "
                               f"{t_max}, dt = {dt}, save_every = {int(every)} saves "
                               f"{expected} (rows missing or added; partial is False)")


def recorded_int(parameters: dict[str, Any], name: str) -> int | None:
    """``parameters[name]`` when it is a positive integer, else None."""
    value = parameters.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def local_dimension(parameters: dict[str, Any]) -> int | None:
    """The Fock dimension of one subsystem recorded by the parameters (qubit: 2,
    oscillator: ``cutoff``), or None."""
    system = parameters.get("system")
    if system == "qubit":
        return 2
    if system == "oscillator":
        return recorded_int(parameters, "cutoff")
    return None


def check_final_state(state: np.ndarray, parameters: dict[str, Any], path: Path) -> None:
    """A square matrix, finite, of the dimension the parameters imply: ``d ** n`` for a
    density matrix, ``2 n`` for a real covariance matrix of oscillators."""
    if state.ndim != 2 or state.shape[0] != state.shape[1] or state.size == 0:
        raise file_error(path, f"'final_state' must be a square matrix, got shape {state.shape}")
    if state.dtype.kind not in "fc":
        raise file_error(path, f"'final_state' must be real or complex, got dtype {state.dtype}")
    if not np.all(np.isfinite(state)):
        raise file_error(path, "'final_state' must be finite")
    n, d = recorded_int(parameters, "n_systems"), local_dimension(parameters)
    if n is None:
        return
    allowed = set()
    if d is not None and parameters.get("method") != "gaussian":
        allowed.add(d ** n)
    if parameters.get("system") == "oscillator" and state.dtype.kind == "f":
        allowed.add(2 * n)  # a covariance matrix (Gaussian models)
    if allowed and state.shape[0] not in allowed:
        raise file_error(path, f"'final_state' has shape {state.shape}, but {n} "
                               f"{parameters.get('system')}s need dimension "
                               f"{' or '.join(str(a) for a in sorted(allowed))}")
