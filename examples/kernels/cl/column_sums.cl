// Sums each column of a row-major `rows` x (global size) matrix of uints (wrapping): every
// input byte is read once. The off-chain input example: its input is meant to be large.
__kernel void column_sums(__global const uint* data, __global uint* sums, const uint rows) {
    size_t col = get_global_id(0);
    size_t cols = get_global_size(0);
    uint acc = 0;
    for (uint r = 0; r < rows; r++) {
        acc += data[(size_t)r * cols + col];
    }
    sums[col] = acc;
}
