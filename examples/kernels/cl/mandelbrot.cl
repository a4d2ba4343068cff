// Escape-time Mandelbrot: each work item iterates z = z^2 + c for one pixel and stores the
// number of iterations before |z| > 2, at most max_iterations.
//
// No fused multiply-adds: the CPU reference (Rust, which never contracts) performs the same
// float operations in the same order, so results match bit for bit where the device rounds as
// IEEE 754 says.
#pragma OPENCL FP_CONTRACT OFF

__kernel void mandelbrot(__global uint* counts,
                         float x_min,
                         float y_min,
                         float step,
                         uint max_iterations)
{
    const uint px = get_global_id(0);
    const uint py = get_global_id(1);
    const uint width = get_global_size(0);
    const float cx = x_min + (float)px * step;
    const float cy = y_min + (float)py * step;
    float x = 0.0f;
    float y = 0.0f;
    uint n = 0;
    while (n < max_iterations) {
        float xx = x * x;
        float yy = y * y;
        if (xx + yy > 4.0f) {
            break;
        }
        float xy = x * y;
        x = xx - yy + cx;
        y = xy + xy + cy;
        n++;
    }
    counts[py * width + px] = n;
}
