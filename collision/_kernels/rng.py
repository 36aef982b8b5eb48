"""Counter-free random streams for the trajectory engine: SeedSequence + SFC64 in numba.

Every Monte Carlo trajectory owns one stream.  Trajectory ``j`` of a run with seed
sequence ``ss`` is seeded exactly as ``numpy.random.SFC64(ss.spawn(n)[j])`` would be (for
a fresh ``ss``), so its draws depend only on ``(seed, j)``: never on the number of
threads, the batch size, or the order in which trajectories run.

Both algorithms are implemented here from their published descriptions and are
bit-for-bit equal to NumPy's implementations (the tests compare them):

* **SeedSequence** (the entropy mixer of ``numpy.random.SeedSequence``) is Melissa
  O'Neill's hash-based ``seed_seq`` design, M. E. O'Neill, "Developing a seed_seq
  alternative" (2015), https://www.pcg-random.org/posts/developing-a-seed_seq-alternative.html
  , as adopted by NumPy >= 1.17 (32-bit words, pool of 4 words).  Spawned child ``j`` has
  ``spawn_key = parent.spawn_key + (j,)``; its entropy words are the parent's run entropy
  (zero-padded to the pool size), then the words of the parent's spawn key, then those of
  ``j``.  Doing this in compiled code costs ~0.2 us per trajectory instead of ~13 us
  for ``SeedSequence.spawn`` in Python.
* **SFC64**, Chris Doty-Humphrey's "Small Fast Chaotic" 64-bit generator from PractRand
  (http://pracrand.sourceforge.net/, 2014), state ``(a, b, c, w)`` with a counter ``w``
  guaranteeing a period of at least 2^64; it passes PractRand and TestU01 BigCrush.
  NumPy's seeding: ``(a, b, c) = seed_seq.generate_state(3, uint64)``, ``w = 1``, then 12
  discarded outputs.  Doubles are ``(x >> 11) * 2^-53`` (53 random bits in [0, 1)).

All arithmetic is on ``uint64`` with explicit ``np.uint64`` constants (numba would
otherwise promote mixed signed/unsigned integer expressions to float64); 32-bit
SeedSequence words are kept in ``uint64`` and masked to 32 bits after every product.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit

# SeedSequence constants (O'Neill's seed_seq_fe, as in numpy.random.bit_generator)
_INIT_A = np.uint64(0x43B0D7E5)
_MULT_A = np.uint64(0x931E8875)
_INIT_B = np.uint64(0x8B51F9DD)
_MULT_B = np.uint64(0x58F38DED)
_MIX_MULT_L = np.uint64(0xCA01F9DD)
_MIX_MULT_R = np.uint64(0x4973F715)
_MASK32 = np.uint64(0xFFFFFFFF)
_XSHIFT = np.uint64(16)

# SFC64 constants
_ONE = np.uint64(1)
_SHIFT_A = np.uint64(11)
_SHIFT_B = np.uint64(3)
_ROT_C = np.uint64(24)
_ROT_C_BACK = np.uint64(40)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2^-53

#: Number of uint64 words in an SFC64 state.
SFC64_WORDS = 4


@njit
def _hashmix(value, hash_const):
    """One step of the SeedSequence hash: returns ``(hashed value, new hash constant)``."""
    value = (value ^ hash_const) & _MASK32
    hash_const = (hash_const * _MULT_A) & _MASK32
    value = (value * hash_const) & _MASK32
    value ^= value >> _XSHIFT
    return value, hash_const


@njit
def _mix(x, y):
    """Combine two 32-bit words (SeedSequence ``mix``)."""
    result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _MASK32
    return result ^ (result >> _XSHIFT)


@njit
def seed_sequence_state(entropy, pool, out):
    """``SeedSequence(entropy words).generate_state(out.size // 2, uint64)`` in place.

    Parameters
    ----------
    entropy : ndarray of uint64, shape (n_words,)
        The assembled 32-bit entropy words (each < 2^32), as
        ``SeedSequence.get_assembled_entropy`` builds them.
    pool : ndarray of uint64, shape (pool_size,)
        Work array; receives the mixed entropy pool (``SeedSequence.pool``).
    out : ndarray of uint64, shape (2 * n_out,)
        Receives the generated 32-bit words, low word first; pairs form the uint64
        outputs (see :func:`sfc64_seed_from_entropy`).
    """
    n_pool = pool.size
    hash_const = _INIT_A
    for i in range(n_pool):  # hash the first entropy words into the pool
        word = entropy[i] if i < entropy.size else np.uint64(0)
        pool[i], hash_const = _hashmix(word, hash_const)
    for i_src in range(n_pool):  # let every pool word affect every other
        for i_dst in range(n_pool):
            if i_src != i_dst:
                hashed, hash_const = _hashmix(pool[i_src], hash_const)
                pool[i_dst] = _mix(pool[i_dst], hashed)
    for i_src in range(n_pool, entropy.size):  # mix in the remaining words
        for i_dst in range(n_pool):
            hashed, hash_const = _hashmix(entropy[i_src], hash_const)
            pool[i_dst] = _mix(pool[i_dst], hashed)
    hash_const = _INIT_B  # generate_state
    for i in range(out.size):
        value = (pool[i % n_pool] ^ hash_const) & _MASK32
        hash_const = (hash_const * _MULT_B) & _MASK32
        value = (value * hash_const) & _MASK32
        out[i] = value ^ (value >> _XSHIFT)


@njit(inline="always")
def sfc64_step(a, b, c, w):
    """One SFC64 step on the state words held as scalars: returns ``(output, a, b, c, w)``.

    (Scalars rather than an array so that hot loops need no array references.)
    """
    out = a + b + w
    a = b ^ (b >> _SHIFT_A)
    b = c + (c << _SHIFT_B)
    c = ((c << _ROT_C) | (c >> _ROT_C_BACK)) + out
    return out, a, b, c, w + _ONE


@njit(inline="always")
def to_unit(x):
    """A uint64 to a double in [0, 1): the top 53 bits times 2^-53 (NumPy's convention)."""
    return float(np.int64(x >> _SHIFT_A)) * _TO_UNIT  # < 2^53: exact


@njit
def sfc64_next(state):
    """Advance an SFC64 state (uint64 array of 4 words) and return the next uint64."""
    out, state[0], state[1], state[2], state[3] = sfc64_step(state[0], state[1], state[2],
                                                             state[3])
    return out


@njit
def uniform(state):
    """A double in [0, 1) from an SFC64 state array."""
    return to_unit(sfc64_next(state))


@njit
def sfc64_seed(state, seed):
    """Seed an SFC64 state from three uint64 words as NumPy does: ``(a, b, c) = seed``,
    counter 1, then 12 discarded outputs."""
    state[0] = seed[0]
    state[1] = seed[1]
    state[2] = seed[2]
    state[3] = _ONE
    for _ in range(12):
        sfc64_next(state)


@njit
def sfc64_seed_from_entropy(entropy, pool, words, state):
    """Seed ``state`` as ``numpy.random.SFC64(SeedSequence)`` with the given assembled
    entropy words.  ``pool`` (pool_size) and ``words`` (6) are work arrays."""
    seed_sequence_state(entropy, pool, words)
    seed = np.empty(3, dtype=np.uint64)
    for i in range(3):
        seed[i] = words[2 * i] | (words[2 * i + 1] << np.uint64(32))
    sfc64_seed(state, seed)


@njit
def spawned_entropy(prefix, child, out):
    """Entropy words of child ``child`` of a SeedSequence: ``prefix`` (the parent's run
    entropy padded to the pool size, then its spawn key's words) followed by the words of
    ``child`` (one word if ``child < 2^32``, else two).  Returns the number of words
    written into ``out`` (which must hold ``prefix.size + 2``)."""
    n = prefix.size
    for i in range(n):
        out[i] = prefix[i]
    c = np.uint64(child)
    out[n] = c & _MASK32
    if c >> np.uint64(32) != np.uint64(0):
        out[n + 1] = c >> np.uint64(32)
        return n + 2
    return n + 1


@njit
def seed_children(prefix, pool_size, first_child, states):
    """SFC64 states of children ``first_child, first_child + 1, ...`` of a SeedSequence.

    Parameters
    ----------
    prefix : ndarray of uint64
        Parent's run entropy (zero-padded to ``pool_size`` words) and spawn-key words,
        see :func:`collision.montecarlo.seed_prefix`.
    pool_size : int
        The parent's ``pool_size`` (4 unless chosen otherwise).
    first_child : int
        Spawn index of the first child (its position in ``SeedSequence.spawn(n)``).
    states : ndarray of uint64, shape (n_children, 4)
        Receives one SFC64 state per child.
    """
    entropy = np.empty(prefix.size + 2, dtype=np.uint64)
    pool = np.empty(pool_size, dtype=np.uint64)
    words = np.empty(6, dtype=np.uint64)
    for j in range(states.shape[0]):
        n = spawned_entropy(prefix, first_child + j, entropy)
        sfc64_seed_from_entropy(entropy[:n], pool, words, states[j])
