"""Pack an archived post (its raw bytes, then its search text) into one zstd frame, and unpack it.

Why one frame for both: the search text is the post's own words, lines that
are in the raw body already, so zstd stores it as references back into the
raw bytes. On the bench archive (100,000 generated posts) raw plus search text
packs to the size of raw alone, while the search text kept apart took 187 MB.

Why zstandard with a dictionary: posts are small (4 KB on average) and say
the same things (headers, signatures, the list's footer); a dictionary
trained on the archive's own posts holds those once. Measured on the bench
mbox, level 3: zlib 198 MB, zstd 201 MB, zstd with a 110 KB dictionary
149 MB for 386 MB of raw messages; one post unpacks in 10-20 us.

A frame names its dictionary (zstd writes the id in the frame header), so a
frame unpacks with the dictionary it was packed with, however many have been
trained since; dictionaries are rows of archive_dictionaries and never
change. No SQL here (listserv.store.dictionaries reads and writes them).

zstandard's compressor and decompressor objects must not be used by two
threads at once; aiosqlite gives each connection a thread, so each thread
has its own.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

import zstandard

LEVEL = 3  # zstd level: 1-2 us more per KB than level 1, 30% smaller than zlib's best
DICTIONARY_BYTES = 112_640  # zstd's own default dictionary size
TRAIN_SAMPLES = 1000  # posts a dictionary is trained on (500 gave 151 MB, 2,000 149.5 MB on the bench)
TRAIN_MIN = 100  # with fewer posts than this no dictionary is trained: frames are packed without one
_FIRST_FREE_ID = 32768  # zstd reserves the dictionary ids below this one


@dataclass(frozen=True)
class Dictionary:
    """A trained zstd dictionary: its id (written in every frame packed with it) and its bytes."""

    id: int
    data: bytes


_dictionaries: dict[int, Dictionary] = {}  # every dictionary this process has seen, by id
_local = threading.local()


def train(samples: list[bytes]) -> Dictionary | None:
    """A new dictionary trained on these posts' raw bytes; None when there are too few to learn from."""
    samples = [sample for sample in samples if sample]
    if len(samples) < TRAIN_MIN:
        return None
    dictionary_id = _FIRST_FREE_ID + secrets.randbelow(2**31 - _FIRST_FREE_ID)
    try:
        trained = zstandard.train_dictionary(DICTIONARY_BYTES, samples, dict_id=dictionary_id, level=LEVEL)
    except zstandard.ZstdError:  # samples too alike or too small to find anything: pack without
        return None
    return remember(dictionary_id, trained.as_bytes())


def remember(dictionary_id: int, data: bytes) -> Dictionary:
    """Make a dictionary of this database known to the process (before packing or unpacking with it)."""
    if dictionary_id not in _dictionaries:  # ids are drawn at random from 2**31: a clash between databases is not met
        _dictionaries[dictionary_id] = Dictionary(dictionary_id, data)
    return _dictionaries[dictionary_id]


def get(dictionary_id: int) -> Dictionary | None:
    """A dictionary the process knows, by id."""
    return _dictionaries.get(dictionary_id)


def known(dictionary_id: int) -> bool:
    """True when unpacking a frame of this dictionary needs no lookup (0: packed without one)."""
    return dictionary_id == 0 or dictionary_id in _dictionaries


def dictionary_of(packed: bytes) -> int:
    """The id of the dictionary a frame was packed with (0: none)."""
    return zstandard.get_frame_parameters(packed).dict_id


def pack(raw: bytes, search_text: str, dictionary: Dictionary | None) -> bytes:
    """One frame holding raw and then search_text (UTF-8); the caller keeps len(raw) to split them again."""
    return _compressor(dictionary).compress(raw + search_text.encode("utf-8"))


def unpack(packed: bytes, raw_length: int) -> tuple[bytes, str]:
    """(raw bytes, search text) of a frame; its dictionary must be known (remember)."""
    content = _decompressor(dictionary_of(packed)).decompress(packed)
    return content[:raw_length], content[raw_length:].decode("utf-8")


def search_text(packed: bytes | None, raw_length: int | None) -> str:
    """The search text of a frame, '' for none (a purged post): the SQL function archive_search_text."""
    if packed is None:
        return ""
    return unpack(packed, raw_length or 0)[1]


def _compressor(dictionary: Dictionary | None) -> zstandard.ZstdCompressor:
    key = dictionary.id if dictionary else 0
    compressors = _per_thread("compressors")
    if key not in compressors:
        data = zstandard.ZstdCompressionDict(dictionary.data) if dictionary else None
        compressors[key] = zstandard.ZstdCompressor(level=LEVEL, dict_data=data)
    return compressors[key]


def _decompressor(dictionary_id: int) -> zstandard.ZstdDecompressor:
    decompressors = _per_thread("decompressors")
    if dictionary_id not in decompressors:
        if not known(dictionary_id):
            raise LookupError(f"archive dictionary {dictionary_id} is not loaded")
        data = zstandard.ZstdCompressionDict(_dictionaries[dictionary_id].data) if dictionary_id else None
        decompressors[dictionary_id] = zstandard.ZstdDecompressor(dict_data=data)
    return decompressors[dictionary_id]


def _per_thread(name: str) -> dict:
    if not hasattr(_local, name):
        setattr(_local, name, {})
    return getattr(_local, name)
