// Each work item hashes its input word `rounds` times in a chain. Integer arithmetic only, so
// every device gives the same bits.

// Chris Wellons' "lowbias32" mixer: an invertible xorshift-multiply permutation of 32-bit words.
uint mix(uint x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

__kernel void hash_chain(__global const uint* input,
                         __global uint* output,
                         uint rounds)
{
    size_t i = get_global_id(0);
    uint x = input[i];
    for (uint r = 0; r < rounds; r++) {
        // The added constant keeps a chain from sticking at the mixer's fixed point 0.
        x = mix(x + 0x9e3779b9U);
    }
    output[i] = x;
}
