/*
 * tpl math: Go's float64 functions that pongo2 reaches (math.Pow through
 * "^", math.Ceil in widthratio, int(float64)), written after Go's own
 * algorithms (FreeBSD msun for exp and log) so results match Go's to the
 * bit where Go does not use assembly, and without libm, which the unpacker
 * does not link.
 */
#include <string.h>

#include "unpacker/tpl_int.h"

#define SHIFT 52
#define MASK 0x7FF
#define BIAS 1023

static uint64_t
bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double
frombits(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static int
isnan_(double d)
{
	return d != d;
}

static int
isinf_(double d)
{
	return d == 1.0 / 0.0 || d == -1.0 / 0.0;
}

static double
inf(int sign)
{
	return sign < 0 ? -1.0 / 0.0 : 1.0 / 0.0;
}

static double
fabs_(double d)
{
	return frombits(bits(d) & ~(1ULL << 63));
}

/* Subnormals scaled up by 2^52. */
static double
normalize(double x, int *e)
{
	if (fabs_(x) < 2.2250738585072014e-308) {
		*e = -52;
		return x * (double)(1ULL << 52);
	}
	*e = 0;
	return x;
}

static double
go_frexp(double f, int *exp)
{
	uint64_t x;

	*exp = 0;
	if (f == 0 || isinf_(f) || isnan_(f))
		return f;
	f = normalize(f, exp);
	x = bits(f);
	*exp += (int)((x >> SHIFT) & MASK) - BIAS + 1;
	x &= ~((uint64_t)MASK << SHIFT);
	x |= (uint64_t)(BIAS - 1) << SHIFT;
	return frombits(x);
}

static double
go_ldexp(double frac, int64_t exp)
{
	double m = 1;
	uint64_t x;
	int e;

	if (frac == 0 || isinf_(frac) || isnan_(frac))
		return frac;
	frac = normalize(frac, &e);
	exp += e;
	x = bits(frac);
	exp += (int64_t)((x >> SHIFT) & MASK) - BIAS;
	if (exp < -1075)
		return frombits(bits(frac) & (1ULL << 63)); /* underflow */
	if (exp > 1023)
		return inf(frac < 0 ? -1 : 1);
	if (exp < -1022) {
		exp += 53;
		m = 1.0 / (double)(1ULL << 53);
	}
	x &= ~((uint64_t)MASK << SHIFT);
	x |= (uint64_t)(exp + BIAS) << SHIFT;
	return m * frombits(x);
}

static double
go_modf(double f, double *frac)
{
	uint64_t x;
	double i;
	unsigned e;

	if (f < 1) {
		if (f < 0) {
			i = go_modf(-f, frac);
			*frac = -*frac;
			return -i;
		}
		*frac = f;
		return f == 0 ? f : 0;
	}
	x = bits(f);
	e = (unsigned)((x >> SHIFT) & MASK) - BIAS;
	if (e < 64 - 12)
		x &= ~((1ULL << (64 - 12 - e)) - 1);
	i = frombits(x);
	*frac = f - i;
	return i;
}

/* The correctly rounded square root, as the hardware gives Go. */
static double
go_sqrt(double x)
{
	unsigned __int128 m, r = 0, bit, rem;
	uint64_t q, u = bits(x);
	int e, n;

	if (x < 0 || isnan_(x))
		return 0.0 / 0.0;
	if (x == 0 || isinf_(x))
		return x;
	e = (int)((u >> SHIFT) & MASK);
	m = u & ((1ULL << SHIFT) - 1);
	if (e == 0)
		e = 1;
	else
		m |= 1ULL << SHIFT;
	e -= BIAS + SHIFT; /* x = m * 2^e */
	if (e & 1) {
		m <<= 1;
		e--;
	}
	m <<= 64; /* room for 32 more bits of root */
	e -= 64;
	rem = m;
	for (bit = (unsigned __int128)1 << 126; bit > rem; bit >>= 2)
		;
	for (; bit != 0; bit >>= 2) {
		if (rem >= r + bit) {
			rem -= r + bit;
			r = (r >> 1) + bit;
		} else
			r >>= 1;
	}
	/* r = floor(sqrt(m)); round it to 53 bits, to nearest even. */
	for (n = 0; (r >> n) >= (1ULL << 53); n++)
		;
	q = (uint64_t)(r >> n);
	if (n > 0) {
		unsigned __int128 low = r & (((unsigned __int128)1 << n) - 1);
		unsigned __int128 half = (unsigned __int128)1 << (n - 1);

		if (low > half || (low == half && (rem != 0 || (q & 1))))
			q++;
	}
	return go_ldexp((double)q, e / 2 + n);
}

static double
go_exp(double x)
{
	const double ln2hi = 6.93147180369123816490e-01,
		     ln2lo = 1.90821492927058770002e-10,
		     log2e = 1.44269504088896338700e+00,
		     p1 = 1.66666666666666657415e-01,
		     p2 = -2.77777777770155933842e-03,
		     p3 = 6.61375632143793436117e-05,
		     p4 = -1.65339022054652515390e-06,
		     p5 = 4.13813679705723846039e-08;
	double hi, lo, r, t, c, y;
	int64_t k = 0;

	if (isnan_(x) || x == inf(1))
		return x;
	if (x == inf(-1))
		return 0;
	if (x > 7.09782712893383973096e+02)
		return inf(1);
	if (x < -7.45133219101941108420e+02)
		return 0;
	if (-1.0 / (1 << 28) < x && x < 1.0 / (1 << 28))
		return 1 + x;
	if (x < 0)
		k = (int64_t)(log2e * x - 0.5);
	else if (x > 0)
		k = (int64_t)(log2e * x + 0.5);
	hi = x - (double)k * ln2hi;
	lo = (double)k * ln2lo;
	r = hi - lo;
	t = r * r;
	c = r - t * (p1 + t * (p2 + t * (p3 + t * (p4 + t * p5))));
	y = 1 - ((lo - (r * c) / (2 - c)) - hi);
	return go_ldexp(y, k);
}

static double
go_log(double x)
{
	const double ln2hi = 6.93147180369123816490e-01,
		     ln2lo = 1.90821492927058770002e-10,
		     l1 = 6.666666666666735130e-01,
		     l2 = 3.999999999940941908e-01,
		     l3 = 2.857142874366239149e-01,
		     l4 = 2.222219843214978396e-01,
		     l5 = 1.818357216161805012e-01,
		     l6 = 1.531383769920937332e-01,
		     l7 = 1.479819860511658591e-01;
	double f1, f, k, s, s2, s4, t1, t2, hfsq;
	int ki;

	if (isnan_(x) || x == inf(1))
		return x;
	if (x < 0)
		return 0.0 / 0.0;
	if (x == 0)
		return inf(-1);
	f1 = go_frexp(x, &ki);
	if (f1 < 1.41421356237309504880168872420969808 / 2) {
		f1 *= 2;
		ki--;
	}
	f = f1 - 1;
	k = ki;
	s = f / (2 + f);
	s2 = s * s;
	s4 = s2 * s2;
	t1 = s2 * (l1 + s4 * (l3 + s4 * (l5 + s4 * l7)));
	t2 = s4 * (l2 + s4 * (l4 + s4 * l6));
	hfsq = 0.5 * f * f;
	return k * ln2hi - ((hfsq - (s * (hfsq + t1 + t2) + k * ln2lo)) - f);
}

static int
isoddint(double x)
{
	double i, fr;

	if (fabs_(x) >= (double)(1ULL << 53))
		return 0;
	i = go_modf(x, &fr);
	return fr == 0 && ((int64_t)i & 1) == 1;
}

static double
pow_special(double x, double y, int *done)
{
	*done = 1;
	if (y == 0 || x == 1)
		return 1;
	if (y == 1)
		return x;
	if (isnan_(x) || isnan_(y))
		return 0.0 / 0.0;
	if (x == 0) {
		if (y < 0)
			return isoddint(y) && (bits(x) >> 63) ? inf(-1)
							      : inf(1);
		return isoddint(y) && (bits(x) >> 63) ? x : 0;
	}
	if (isinf_(y)) {
		if (x == -1)
			return 1;
		return (fabs_(x) < 1) == (y > 0) ? 0 : inf(1);
	}
	if (isinf_(x)) {
		if (x < 0)
			return go_pow(1 / x, -y);
		return y < 0 ? 0 : inf(1);
	}
	if (y == 0.5)
		return go_sqrt(x);
	if (y == -0.5)
		return 1 / go_sqrt(x);
	*done = 0;
	return 0;
}

/* Go's math.Pow. */
double
go_pow(double x, double y)
{
	double yi, yf, a1 = 1, x1, r;
	int64_t ae = 0, xe, i;
	int done, e;

	r = pow_special(x, y, &done);
	if (done)
		return r;
	yi = go_modf(fabs_(y), &yf);
	if (yf != 0 && x < 0)
		return 0.0 / 0.0;
	if (yi >= 9223372036854775808.0) {
		if (x == -1)
			return 1;
		return (fabs_(x) < 1) == (y > 0) ? 0 : inf(1);
	}
	if (yf != 0) {
		if (yf > 0.5) {
			yf--;
			yi++;
		}
		a1 = go_exp(yf * go_log(x));
	}
	x1 = go_frexp(x, &e);
	xe = e;
	for (i = (int64_t)yi; i != 0; i >>= 1) {
		if (xe < -(1 << 12) || (1 << 12) < xe) {
			ae += xe;
			break;
		}
		if (i & 1) {
			a1 *= x1;
			ae += xe;
		}
		x1 *= x1;
		xe *= 2; /* Go shifts; in C a negative shift is undefined */
		if (x1 < .5) {
			x1 += x1;
			xe--;
		}
	}
	if (y < 0) {
		a1 = 1 / a1;
		ae = -ae;
	}
	return go_ldexp(a1, ae);
}

/* int(f) in Go on amd64: CVTTSD2SQ gives INT64_MIN when out of range. */
int64_t
go_f2i(double d)
{
	if (isnan_(d) || d >= 9223372036854775808.0 ||
	    d < -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

double
go_ceil(double x)
{
	double i, f;

	if (isnan_(x) || isinf_(x) || x == 0)
		return x;
	i = go_modf(x, &f);
	if (f > 0)
		i += 1;
	else if (i == 0 && x < 0)
		i = -0.0;
	return i;
}
