"""Result files of every producer, read back exactly, and refused when damaged.

Valid files of every result type (HeatFluxes: density engine, trajectories with standard
errors, master equation, a delayed run with ``in_flight``, the Gaussian engine;
HeatStatistics: density engine, trajectories with standard errors, independent reservoirs
with the joint distribution), in CSV and npz, load bit for bit.  Then one test feeds the
loaders a list of damaged files: each must raise ``ValueError`` naming the file.  Damage
that a careless writer could also produce is "re-signed" (the checksum recomputed over
the damaged data), so the structural checks must catch it on their own.
"""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import collision
import lindblad
from lindblad import states
from lindblad._files import NPZ_CHECKSUM, _arrays_digest, _rows_digest, write_npz
from lindblad.counting import HeatStatistics
from lindblad.fluxes import HeatFluxes

T_MAX, DT = 0.5, 0.05
RHO0 = states.product(states.thermal("qubit", 2.0), states.thermal("qubit", 0.5))


def _build(kind):
    cm = collision.CascadeCollisionModel("qubit", temperature=1.0)
    mc = dict(method="trajectories", n_trajectories=64, seed=3)
    if kind == "flux-density":
        return cm.run(RHO0, T_MAX, DT)
    if kind == "flux-trajectories":
        return cm.run(RHO0, T_MAX, DT, **mc)
    if kind == "flux-master-equation":
        me = lindblad.CascadeMasterEquation("qubit", temperature=1.0)
        return me.heat_fluxes(RHO0, np.linspace(0, T_MAX, 11))
    if kind == "flux-delay":
        return collision.CascadeCollisionModel("qubit", temperature=1.0, delay=0.1).run(
            RHO0, T_MAX, DT)
    if kind == "flux-gaussian":
        return collision.GaussianCollisionModel(2, temperature=1.0).run(
            np.diag([1.5, 1.5, 0.5, 0.5]), T_MAX, DT)
    if kind == "stats-density":
        return cm.heat_statistics(RHO0, T_MAX, DT)
    if kind == "stats-trajectories":
        return cm.heat_statistics(RHO0, T_MAX, DT, **mc)
    if kind == "stats-independent":
        return collision.CascadeCollisionModel("qubit", temperature=1.0, cascade=False
                                               ).heat_statistics(RHO0, T_MAX, DT, **mc)
    raise AssertionError(kind)


KINDS = ["flux-density", "flux-trajectories", "flux-master-equation", "flux-delay",
         "flux-gaussian", "stats-density", "stats-trajectories", "stats-independent"]
SUFFIXES = [".csv", ".npz"]
_CACHE = {}


def _result(kind):
    if kind not in _CACHE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CACHE[kind] = _build(kind)
    return _CACHE[kind]


def _cls(kind):
    return HeatStatistics if kind.startswith("stats") else HeatFluxes


def _arrays(res):
    """Every array a result file keeps, by name."""
    if isinstance(res, HeatStatistics):
        out = {k: getattr(res, k) for k in ("t", "quanta", "probabilities", "cumulants",
                                             "joint", "local_quanta")}
        if res.stderr is not None:
            out |= {"se_p": res.stderr.probabilities, "se_k": res.stderr.cumulants,
                    "se_j": res.stderr.joint}
    else:
        out = {k: getattr(res, k) for k in ("t", "local", "correlated", "in_flight")}
        if res.stderr is not None:
            out |= {f"se_{k}": getattr(res.stderr, k)
                    for k in ("local", "correlated", "J2", "J12", "total", "subsystem")}
    return {k: v for k, v in out.items() if v is not None}


def _assert_identical(back, res, suffix):
    expected, got = _arrays(res), _arrays(back)
    assert expected.keys() == got.keys()
    for name, value in expected.items():
        assert np.array_equal(got[name], value, equal_nan=True), name
    assert back.partial is res.partial
    if suffix == ".npz" and isinstance(res, HeatFluxes) and res.final_state is not None:
        assert np.array_equal(back.final_state, res.final_state)


def _load_quietly(cls, path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a valid new file loads without any warning
        return cls.load(path)


@pytest.mark.parametrize("suffix", SUFFIXES, ids=["csv", "npz"])
@pytest.mark.parametrize("kind", KINDS)
def test_valid_files_load_bit_for_bit(tmp_path, kind, suffix):
    res = _result(kind)
    path = res.save(tmp_path / f"result{suffix}")
    _assert_identical(_load_quietly(_cls(kind), path), res, suffix)


@pytest.mark.parametrize("kind", KINDS)
def test_csv_with_a_byte_order_mark_loads(tmp_path, kind):
    res = _result(kind)
    path = res.save(tmp_path / "result.csv")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    _assert_identical(_load_quietly(_cls(kind), path), res, ".csv")


def _old_style(path):
    """Rewrite ``path`` as the writer before checksums did: no ``# sha256`` line, no
    ``sha256`` array."""
    if path.suffix == ".csv":
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(ln for ln in lines if not ln.startswith("# sha256:")))
    else:
        with np.load(path) as archive:
            arrays = {k: archive[k] for k in archive.files if k != NPZ_CHECKSUM}
        np.savez(path, **arrays)


@pytest.mark.parametrize("suffix", SUFFIXES, ids=["csv", "npz"])
@pytest.mark.parametrize("kind", KINDS)
def test_files_without_checksum_load_with_a_warning(tmp_path, kind, suffix):
    res = _result(kind)
    path = res.save(tmp_path / f"result{suffix}")
    _old_style(path)
    with pytest.warns(UserWarning, match="no checksum"):
        back = _cls(kind).load(path)
    _assert_identical(back, res, suffix)


# --- damage ----------------------------------------------------------------------------
# CSV damage: a function of (header names, data rows as lists of strings) -> (header, rows),
# or of the whole text.  npz damage: a function of the arrays dict (or of the bytes).

def _split_csv(path):
    lines = path.read_text().splitlines()
    comments = [ln for ln in lines if ln.startswith("#")]
    table = [ln for ln in lines if not ln.startswith("#")]
    return table[0].split(","), [row.split(",") for row in table[1:]], comments


def _write_csv(path, header, rows, comments, resign):
    """Write the table back; ``resign``: a new checksum over the damaged rows (as a
    careless writer would), else the old one is kept."""
    texts = [",".join(row) for row in rows]
    if resign:  # the checksum a writer would compute for the damaged table
        params = next(c[len("# parameters: "):] for c in comments
                      if c.startswith("# parameters: "))
        partial = any(c.startswith("# partial") for c in comments)
        digest = _rows_digest(texts, ",".join(header), params, partial)
        comments = [c for c in comments if not c.startswith("# sha256:")] + \
            [f"# sha256: {digest}"]
    path.write_text("\n".join([",".join(header), *comments, *texts]) + "\n")


def _column_of(kind, header):
    return header.index("P_0" if kind.startswith("stats") else "local_1")


def _csv_set(value, row=2, column=None):
    def damage(kind, header, rows):
        j = _column_of(kind, header) if column is None else header.index(column)
        rows[row][j] = value
        return header, rows
    return damage


def _csv_scale_p(factor):
    def damage(kind, header, rows):
        for j, name in enumerate(header):
            if name.startswith("P_") and not name.endswith("_stderr"):
                rows[3][j] = repr(float(rows[3][j]) * factor)
        return header, rows
    return damage


def _csv_move_probability(kind, header, rows):
    a, b = header.index("P_m2"), header.index("P_m1")
    rows[0][a] = repr(float(rows[0][a]) - 0.01)
    rows[0][b] = repr(float(rows[0][b]) + 0.01)
    return header, rows


def _csv_drop(name):
    def damage(kind, header, rows):
        j = header.index(name)
        return header[:j] + header[j + 1:], [r[:j] + r[j + 1:] for r in rows]
    return damage


def _csv_rename(old, new):
    def damage(kind, header, rows):
        return [new if h == old else h for h in header], rows
    return damage


def _csv_add_to(name, delta):
    def damage(kind, header, rows):
        j = header.index(name)
        rows[3][j] = repr(float(rows[3][j]) + delta)
        return header, rows
    return damage


# (id, which kinds, damage, resign)
CSV_CASES = [
    ("drop-last-rows", "engine", lambda k, h, r: (h, r[:-3]), True),
    ("drop-last-rows-unsigned", "all", lambda k, h, r: (h, r[:-3]), False),
    ("reverse-rows", "all", lambda k, h, r: (h, r[::-1]), True),
    ("duplicate-row", "all", lambda k, h, r: (h, r[:4] + [r[3]] + r[4:]), True),
    ("nan", "all", _csv_set("nan"), True),
    ("inf", "all", _csv_set("inf"), True),
    ("negative-time", "all", _csv_set("-0.05", row=0, column="t"), True),
    ("nan-time", "all", _csv_set("nan", row=4, column="t"), True),
    ("edit-one-value", "all", _csv_set("0.123"), False),
    ("truncate-mid-row", "all", lambda k, h, r: (h, r[:-1] + [r[-1][:len(r[-1]) // 2]]),
     True),
    ("header-only", "all", lambda k, h, r: (h, []), True),
    ("not-normalised", "stats", _csv_scale_p(1.01), True),
    ("negative-probability", "stats", _csv_move_probability, True),
    ("inconsistent-kappa_1", "stats", _csv_add_to("kappa_1", 1e-3), True),
    ("renamed-P-column", "stats", _csv_rename("P_2", "P_3"), True),
    ("dropped-P-column", "stats", _csv_drop("P_2"), True),
    ("dropped-middle-P-column", "stats", _csv_drop("P_0"), True),
    ("dropped-Pjoint-column", "joint", _csv_drop("Pjoint_1_1"), True),
    ("dropped-local-column", "flux", _csv_drop("correlated_2"), True),
]


def _text_truncate_mid_number(path):
    path.write_bytes(path.read_bytes()[:-3])  # the newline and the last two digits


def _text_semicolons(path):
    lines = path.read_text().splitlines()
    path.write_text("\n".join(ln if ln.startswith("#") else ln.replace(",", ";")
                              for ln in lines) + "\n")


def _bytes_empty(path):
    path.write_bytes(b"")


def _bytes_half(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _bytes_flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))


def _bytes_text(path):
    path.write_text("not an archive\n")


def _text_mark_partial(path):
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "# partial: true", *lines[1:]]) + "\n")


def _text_edit_parameters(path):
    lines = path.read_text().splitlines()
    path.write_text("\n".join(ln.replace('"omega": 1.0', '"omega": 2.0')
                              if ln.startswith("# parameters") else ln for ln in lines) + "\n")


FILE_CASES = [  # (id, suffix, damage of the file itself)
    ("marked-partial", ".csv", _text_mark_partial),
    ("parameters-edited", ".csv", _text_edit_parameters),
    ("truncate-mid-number", ".csv", _text_truncate_mid_number),
    ("semicolon-csv", ".csv", _text_semicolons),
    ("empty-csv", ".csv", _bytes_empty),
    ("empty-npz", ".npz", _bytes_empty),
    ("truncated-npz", ".npz", _bytes_half),
    ("flipped-byte-npz", ".npz", _bytes_flip),
    ("not-a-zip", ".npz", _bytes_text),
]


def _npz_edit(name, fn):
    def damage(kind, arrays):
        if name in arrays:
            arrays[name] = fn(np.array(arrays[name]))
        return arrays
    return damage


def _set_first(value):
    def fn(a):
        a.flat[a.size // 2] = value
        return a
    return fn


def _npz_reverse(kind, arrays):
    arrays["t"] = arrays["t"][::-1].copy()
    return arrays


def _npz_object(kind, arrays):
    name = "probabilities" if kind.startswith("stats") else "local"
    arrays[name] = np.array([object(), 1], dtype=object)
    return arrays


# (id, which kinds, damage, resign); resigned files are written by lindblad._files.write_npz
NPZ_CASES = [
    ("nan", "stats", _npz_edit("probabilities", _set_first(np.nan)), True),
    ("nan-local", "flux", _npz_edit("local", _set_first(np.nan)), True),
    ("inf-local", "flux", _npz_edit("local", _set_first(np.inf)), True),
    ("negative-time", "all", _npz_edit("t", lambda a: a - 0.1), True),
    ("reverse-times", "all", _npz_reverse, True),
    ("drop-last-rows", "engine", lambda k, a: {n: (v[..., :-2] if n in ("local", "correlated",
                                                                       "t", "in_flight")
                                                   else v[:-2] if n in ("probabilities",
                                                                        "cumulants")
                                                   else v) for n, v in a.items()}, True),
    ("edit-one-value", "all", _npz_edit("t", _set_first(0.26)), False),
    ("wrong-final-state-shape", "final", _npz_edit("final_state", lambda a: a[:3, :3]), True),
    ("one-d-local", "flux", _npz_edit("local", lambda a: a[0]), True),
    ("partial-as-string", "all", lambda k, a: a | {"partial": np.array("False")}, True),
    ("not-normalised", "stats", _npz_edit("probabilities", lambda a: a * 1.01), True),
    ("inconsistent-kappa_1", "stats", _npz_edit("cumulants", lambda a: a + [1e-3, 0, 0, 0]),
     True),
    ("wrong-joint", "joint", _npz_edit("joint", lambda a: a[..., ::-1].copy()), True),
    ("object-array", "all", _npz_object, None),
]


def _applies(which, kind):
    return {"all": True, "stats": kind.startswith("stats"), "flux": kind.startswith("flux"),
            "joint": kind == "stats-independent",
            "engine": kind != "flux-master-equation",
            "final": kind.startswith("flux") and kind != "flux-master-equation"}[which]


def _cases():
    for kind in KINDS:
        for case_id, which, damage, resign in CSV_CASES:
            if _applies(which, kind):
                yield pytest.param(kind, ".csv", ("rows", damage, resign),
                                   id=f"{kind}-csv-{case_id}")
        for case_id, which, damage, resign in NPZ_CASES:
            if _applies(which, kind):
                yield pytest.param(kind, ".npz", ("arrays", damage, resign),
                                   id=f"{kind}-npz-{case_id}")
        for case_id, suffix, damage in FILE_CASES:
            yield pytest.param(kind, suffix, ("file", damage, None), id=f"{kind}-{case_id}")


@pytest.mark.parametrize("kind, suffix, case", list(_cases()))
def test_damaged_files_are_refused_naming_the_file(tmp_path, kind, suffix, case):
    how, damage, resign = case
    path = _result(kind).save(tmp_path / f"damaged{suffix}")
    if how == "rows":
        header, rows, comments = _split_csv(path)
        header, rows = damage(kind, header, rows)
        _write_csv(path, header, rows, comments, resign)
    elif how == "arrays":
        with np.load(path) as archive:
            arrays = {k: archive[k] for k in archive.files}
        old = arrays.pop(NPZ_CHECKSUM)
        arrays = damage(kind, arrays)
        if resign is None:  # an object array: only numpy's pickle can write it
            np.savez(path, **arrays)
        elif resign:
            write_npz(path, arrays)
        else:
            np.savez(path, **arrays, **{NPZ_CHECKSUM: old})
            assert _arrays_digest(arrays) != str(old)  # the damage changed the data
    else:
        damage(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError) as info:
            _cls(kind).load(path)
    assert str(Path(path)) in str(info.value) or path.name in str(info.value)


@pytest.mark.parametrize("suffix", SUFFIXES, ids=["csv", "npz"])
@pytest.mark.parametrize("kind", ["flux-trajectories", "stats-independent"])
def test_every_flipped_bit_and_every_cut_is_refused(tmp_path, kind, suffix):
    """Bit flips spread over the whole file (every 3rd byte of a CSV, every 7th of an npz,
    the bit cycling through all 8) and cuts (every 5th / 13th byte): each is refused with
    a ValueError naming the file, never another exception (zipfile and numpy raise
    RuntimeError, tokenize errors, ... for some) and never a silent load as a file
    without checksum (a flipped length in the zip directory hides the entries after it;
    a flipped letter of '# sha256:' hides the checksum line).  A flip in zip bookkeeping
    numpy does not read (a timestamp, ...) may load: then every number is the saved one."""
    res = _result(kind)
    path = tmp_path / f"r{suffix}"
    good = res.save(path).read_bytes()
    flip_every, cut_every = (3, 5) if suffix == ".csv" else (7, 13)
    loaded = 0
    for pos in range(0, len(good), flip_every):
        bad = bytearray(good)
        bad[pos] ^= 1 << (pos % 8)
        path.write_bytes(bytes(bad))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an unverified load would be an error too
            try:
                back = _cls(kind).load(path)
            except ValueError as exc:
                assert str(path) in str(exc)
                continue
        assert suffix == ".npz", f"a flipped bit at byte {pos} of the CSV loaded"
        _assert_identical(back, res, suffix)
        loaded += 1
    assert loaded < len(good) // flip_every // 4  # the zip's bookkeeping, not its data
    for cut in range(0, len(good) - 1, cut_every):
        path.write_bytes(good[:cut])
        with pytest.raises(ValueError, match=re.escape(str(path))):
            _cls(kind).load(path)


def test_long_counting_run_saves_and_loads(tmp_path):
    """4e6 steps of the density engine (0.5-1 s): its rows sum to 1 only within 1.0e-9
    (rounding accumulates ~1 eps per step), so the files' tolerance must grow with the
    steps of the run (lindblad.counting.TOL_PER_STEP), or the run could not be saved."""
    cm = collision.CascadeCollisionModel("qubit", temperature=1.0)
    res = cm.heat_statistics(RHO0, 40.0, 1e-5, save_every=400_000)
    for suffix in SUFFIXES:
        back = _load_quietly(HeatStatistics, res.save(tmp_path / f"long{suffix}"))
        _assert_identical(back, res, suffix)
