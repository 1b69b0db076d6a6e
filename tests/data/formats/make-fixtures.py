#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Regenerates the NPY/NPZ/safetensors fixtures read by tests/test-io-formats.c.
# Run by hand from this directory with Debian's numpy: /usr/bin/python3 make-fixtures.py
# (the test suite never runs it). Values follow formulas that the C test recomputes:
#   element i (C order) of a fixture = f(i), with f per kind:
#   float: i * 0.5 - 3.25   signed: i - 7   unsigned: i * 3   bool: i % 3 == 0
import io
import json
import os
import struct
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPE = (2, 3, 4)


def values(kind, n):
    i = np.arange(n, dtype=np.float64)
    if kind == 'f':
        return i * 0.5 - 3.25
    if kind == 'i':
        return i - 7
    if kind == 'u':
        return i * 3
    return (np.arange(n) % 3) == 0


def out(name):
    return os.path.join(HERE, name)


def npy_fixtures():
    kinds = ['f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'b1']
    for code in kinds:
        kind, size = code[0], int(code[1:])
        orders = ['<', '>'] if size > 1 else ['|']
        for bo in orders:
            dt = np.dtype(bo + code if kind != 'b' else '?')
            a = values(kind, int(np.prod(SHAPE))).reshape(SHAPE).astype(dt)
            for order in ['C', 'F']:
                arr = np.asarray(a, order=order)
                endian = {'<': 'le', '>': 'be', '|': 'na'}[bo]
                name = '%s-%s-%s.npy' % (code, endian, order.lower())
                np.save(out(name), arr)
                back = np.load(out(name))
                assert back.dtype == dt and np.array_equal(back, a)
                assert back.flags['F_CONTIGUOUS'] == (order == 'F')
    # Shapes at the edges: a scalar, a vector, an empty array, a format 2.0 file.
    np.save(out('scalar-f8.npy'), np.float64(2.5))
    np.save(out('vector-i4.npy'), np.array([5, -6, 7], dtype='<i4'))
    np.save(out('empty-f4.npy'), np.zeros((0, 3), dtype='<f4'))
    with open(out('v2-f4.npy'), 'wb') as f:
        np.lib.format.write_array(f, np.arange(6, dtype='<f4').reshape(2, 3), version=(2, 0))


def npz_fixtures():
    a = np.arange(12, dtype='<f4').reshape(3, 4) * 0.25
    b = np.array([1, 2, 3], dtype='>i8')
    c = np.asfortranarray(np.arange(6, dtype='<f8').reshape(2, 3))
    np.savez(out('stored.npz'), a=a, b=b, c=c)
    np.savez_compressed(out('deflated.npz'), a=a, b=b, c=c)
    # Compressible enough that deflate really shrinks it.
    np.savez_compressed(out('zeros.npz'), z=np.zeros((64, 64), dtype='<f4'))
    for name in ['stored.npz', 'deflated.npz']:
        with zipfile.ZipFile(out(name)) as z:
            want = zipfile.ZIP_STORED if name == 'stored.npz' else zipfile.ZIP_DEFLATED
            assert all(i.compress_type == want for i in z.infolist())


def safetensors(path, tensors, metadata=None):
    """Writes a safetensors file the way the reference implementation lays it out."""
    header = {}
    if metadata is not None:
        header['__metadata__'] = metadata
    blobs = []
    offset = 0
    for name, dtype, shape, raw in tensors:
        header[name] = {'dtype': dtype, 'shape': list(shape),
                        'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def safetensors_fixtures():
    n = 6
    f = values('f', n)
    tensors = [
        ('f32', 'F32', (2, 3), f.astype('<f4').tobytes()),
        ('f16', 'F16', (2, 3), f.astype('<f2').tobytes()),
        # bfloat16 = upper half of a float32; these values are exact in it.
        ('bf16', 'BF16', (2, 3),
         (f.astype('<f4').view('<u4') >> 16).astype('<u2').tobytes()),
        ('f64', 'F64', (3, 2), f.astype('<f8').tobytes()),
        ('i8', 'I8', (6,), values('i', n).astype('i1').tobytes()),
        ('i32', 'I32', (6,), values('i', n).astype('<i4').tobytes()),
        ('i64', 'I64', (1, 6), values('i', n).astype('<i8').tobytes()),
        ('u8', 'U8', (6,), values('u', n).astype('u1').tobytes()),
        ('bool', 'BOOL', (6,), values('b', n).astype('?').tobytes()),
        ('scalar', 'F32', (), np.array([4.5], '<f4').tobytes()),
        ('empty', 'F32', (0, 4), b''),
    ]
    safetensors(out('dtypes.safetensors'), tensors, {'format': 'pt', 'note': 'fixture'})


if __name__ == '__main__':
    npy_fixtures()
    npz_fixtures()
    safetensors_fixtures()
