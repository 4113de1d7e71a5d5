namespace Basin.Data.Corruptions;

/// <summary>
/// Image operations the corruptions share, on one channel plane of h×w floats in row-major order: separable and 2-D
/// convolution with a reflecting border, area (BOX) resampling and inverse-mapped affine warps with bilinear sampling.
/// Plain loops in a fixed order, so the same input gives the same bytes on every machine.
/// </summary>
internal static class ImageOps
{
    /// <summary>The index of <paramref name="i"/> reflected into 0..n−1 with the edge repeated (d c b a | a b c d | d c b a),
    /// for any offset.</summary>
    public static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        int period = 2 * n;
        int m = ((i % period) + period) % period;
        return m < n ? m : period - 1 - m;
    }

    /// <summary>A normalized 1-D Gaussian of standard deviation σ, radius ⌈4σ⌉.</summary>
    public static double[] GaussianKernel(double sigma)
    {
        int radius = (int)Math.Ceiling(4 * sigma);
        var k = new double[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++) sum += k[i + radius] = Math.Exp(-0.5 * i * i / (sigma * sigma));
        for (int i = 0; i < k.Length; i++) k[i] /= sum;
        return k;
    }

    /// <summary>The plane convolved with <paramref name="kernel"/> along rows, then along columns (reflecting border).</summary>
    public static void Separable(float[] plane, int offset, int h, int w, double[] kernel)
    {
        int r = kernel.Length / 2;
        var tmp = new double[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double s = 0;
                for (int j = -r; j <= r; j++) s += kernel[j + r] * plane[offset + y * w + Reflect(x + j, w)];
                tmp[y * w + x] = s;
            }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double s = 0;
                for (int j = -r; j <= r; j++) s += kernel[j + r] * tmp[Reflect(y + j, h) * w + x];
                plane[offset + y * w + x] = (float)s;
            }
    }

    /// <summary>The plane convolved with a square 2-D kernel of odd side (reflecting border).</summary>
    public static void Convolve(float[] plane, int offset, int h, int w, double[,] kernel)
    {
        int r = kernel.GetLength(0) / 2;
        var result = new double[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double s = 0;
                for (int dy = -r; dy <= r; dy++)
                {
                    int row = Reflect(y + dy, h) * w;
                    for (int dx = -r; dx <= r; dx++) s += kernel[dy + r, dx + r] * plane[offset + row + Reflect(x + dx, w)];
                }
                result[y * w + x] = s;
            }
        for (int i = 0; i < result.Length; i++) plane[offset + i] = (float)result[i];
    }

    /// <summary>
    /// Area (BOX) resampling weights from <paramref name="from"/> pixels to <paramref name="to"/>: output pixel i averages
    /// the input interval [i·from/to, (i+1)·from/to), each input pixel weighted by its overlap.
    /// </summary>
    public static double[,] BoxWeights(int from, int to)
    {
        var weights = new double[to, from];
        double scale = (double)from / to;
        for (int i = 0; i < to; i++)
        {
            double a = i * scale, b = (i + 1) * scale;
            for (int j = (int)Math.Floor(a); j < from && j < b; j++)
            {
                double overlap = Math.Min(b, j + 1) - Math.Max(a, j);
                if (overlap > 0) weights[i, j] = overlap / scale;
            }
        }
        return weights;
    }

    /// <summary>A plane resized by separable area weights (rows: <paramref name="rows"/>, columns: <paramref name="cols"/>).</summary>
    public static double[] Resample(double[] plane, int h, int w, double[,] rows, double[,] cols)
    {
        int oh = rows.GetLength(0), ow = cols.GetLength(0);
        var tmp = new double[h * ow];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < ow; x++)
            {
                double s = 0;
                for (int j = 0; j < w; j++) s += cols[x, j] * plane[y * w + j];
                tmp[y * ow + x] = s;
            }
        var result = new double[oh * ow];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                double s = 0;
                for (int j = 0; j < h; j++) s += rows[y, j] * tmp[j * ow + x];
                result[y * ow + x] = s;
            }
        return result;
    }

    /// <summary>
    /// Inverse-mapped affine warp about the centre ((w−1)/2, (h−1)/2): output pixel p reads the input at
    /// A·(p − centre) + centre + t (x = column, y = row), bilinear, zero outside the image.
    /// </summary>
    public static void Warp(float[] plane, int offset, int h, int w, double a11, double a12, double a21, double a22,
        double tx = 0, double ty = 0)
    {
        double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
        var result = new float[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double dx = x - cx, dy = y - cy;
                double sx = a11 * dx + a12 * dy + cx + tx, sy = a21 * dx + a22 * dy + cy + ty;
                result[y * w + x] = (float)Bilinear(plane, offset, h, w, sx, sy);
            }
        Array.Copy(result, 0, plane, offset, result.Length);
    }

    static double Bilinear(float[] plane, int offset, int h, int w, double x, double y)
    {
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        double At(int yy, int xx) => yy < 0 || yy >= h || xx < 0 || xx >= w ? 0 : plane[offset + yy * w + xx];
        return (1 - fy) * ((1 - fx) * At(y0, x0) + fx * At(y0, x0 + 1)) + fy * ((1 - fx) * At(y0 + 1, x0) + fx * At(y0 + 1, x0 + 1));
    }
}
