// C = A * B for n x n row-major float matrices, n a multiple of 64: a work-group of 4 x 2 items
// covers 64 columns x 16 rows of C.
//
// Each work item computes an 8-row x 16-column block of C in eight float16 registers and walks
// k over the whole inner dimension: for each k it loads one float16 of row k of B and the eight
// values of column k of A in its rows, and does eight float16 multiply-adds. Every element of C
// sums its products in k order, like the reference.
//
// There is no local memory and no barrier. PoCL's CPU device runs a work-group as loops over
// its items, one per region between barriers, so an item's values that live across a barrier
// are kept in memory; the earlier kernel (8 x 2 groups of 8 x 8 float8 blocks, with 16-deep
// slices of A and B in local memory and two barriers per slice) reached 0.28 to 0.39 times
// `matrixmultiply` at n = 512 to 1024. Without barriers the eight accumulators stay in AVX-512
// registers, B comes in as one vector per k and A as broadcast operands of the multiply-adds,
// and the CPU caches serve the re-reads that a local tile would save: about 3.5 times the
// earlier kernel's speed (see examples/kernels/README.md). A GPU serves them from its caches
// too; the kernel is correct on any OpenCL device.
//
// `acc += a * b` lets the compiler contract each multiply-add to an FMA where the device has one
// (OpenCL's default FP_CONTRACT ON); `mad()` gave separate multiplies and adds on PoCL.

#define BLOCK_ROWS 8     // rows of C per work item
#define BLOCK_COLS 16    // columns of C per work item: one float16

__kernel __attribute__((reqd_work_group_size(4, 2, 1)))
void sgemm(__global const float* a,
           __global const float* b,
           __global float* c,
           uint n)
{
    const uint col = get_global_id(0) * BLOCK_COLS;
    const uint row = get_global_id(1) * BLOCK_ROWS;

    __global const float* a0 = a + row * n;
    __global const float* a1 = a0 + n;
    __global const float* a2 = a1 + n;
    __global const float* a3 = a2 + n;
    __global const float* a4 = a3 + n;
    __global const float* a5 = a4 + n;
    __global const float* a6 = a5 + n;
    __global const float* a7 = a6 + n;
    __global const float* b_k = b + col;

    float16 c0 = (float16)(0.0f), c1 = (float16)(0.0f), c2 = (float16)(0.0f),
            c3 = (float16)(0.0f), c4 = (float16)(0.0f), c5 = (float16)(0.0f),
            c6 = (float16)(0.0f), c7 = (float16)(0.0f);
    for (uint k = 0; k < n; k++, b_k += n) {
        const float16 b_row = vload16(0, b_k);
        c0 += a0[k] * b_row;
        c1 += a1[k] * b_row;
        c2 += a2[k] * b_row;
        c3 += a3[k] * b_row;
        c4 += a4[k] * b_row;
        c5 += a5[k] * b_row;
        c6 += a6[k] * b_row;
        c7 += a7[k] * b_row;
    }

    __global float* c_row = c + row * n + col;
    vstore16(c0, 0, c_row);
    vstore16(c1, 0, c_row + n);
    vstore16(c2, 0, c_row + 2 * n);
    vstore16(c3, 0, c_row + 3 * n);
    vstore16(c4, 0, c_row + 4 * n);
    vstore16(c5, 0, c_row + 5 * n);
    vstore16(c6, 0, c_row + 6 * n);
    vstore16(c7, 0, c_row + 7 * n);
}
