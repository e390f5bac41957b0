/*
 * nbody - double precision: the five-planet simulation of the Benchmarks
 * Game, n steps of 0.01 days; add, multiply, divide and sqrt on f64.  The
 * checksum is the bit pattern of the final energy, which every step moves.
 * Both compilers keep the source's operation order (no -ffast-math, no FMA
 * on baseline x86-64 or in wasm), so the bits agree.
 */
#include <stdint.h>

#define BODIES	5
#define PI	3.141592653589793
#define MASS0	(4 * PI * PI)
#define DPY	365.24

static const double start[BODIES][7] = {	/* x y z vx vy vz mass */
	{ 0, 0, 0, 0, 0, 0, MASS0 },
	{ 4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
	  1.66007664274403694e-03 * DPY, 7.69901118419740425e-03 * DPY,
	  -6.90460016972063023e-05 * DPY, 9.54791938424326609e-04 * MASS0 },
	{ 8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
	  -2.76742510726862411e-03 * DPY, 4.99852801234917238e-03 * DPY,
	  2.30417297573763929e-05 * DPY, 2.85885980666130812e-04 * MASS0 },
	{ 1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
	  2.96460137564761618e-03 * DPY, 2.37847173959480950e-03 * DPY,
	  -2.96589568540237556e-05 * DPY, 4.36624404335156298e-05 * MASS0 },
	{ 1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
	  2.68067772490389322e-03 * DPY, 1.62824170038242295e-03 * DPY,
	  -9.51592254519715870e-05 * DPY, 5.15138902046611451e-05 * MASS0 },
};

static double pos[BODIES][3], vel[BODIES][3], mass[BODIES];

static void advance(double dt)
{
	for (int i = 0; i < BODIES; i++)
		for (int j = i + 1; j < BODIES; j++) {
			double dx = pos[i][0] - pos[j][0];
			double dy = pos[i][1] - pos[j][1];
			double dz = pos[i][2] - pos[j][2];
			double d2 = dx * dx + dy * dy + dz * dz;
			double mag = dt / (d2 * __builtin_sqrt(d2));

			vel[i][0] -= dx * mass[j] * mag;
			vel[i][1] -= dy * mass[j] * mag;
			vel[i][2] -= dz * mass[j] * mag;
			vel[j][0] += dx * mass[i] * mag;
			vel[j][1] += dy * mass[i] * mag;
			vel[j][2] += dz * mass[i] * mag;
		}
	for (int i = 0; i < BODIES; i++)
		for (int k = 0; k < 3; k++)
			pos[i][k] += dt * vel[i][k];
}

static double energy(void)
{
	double e = 0;

	for (int i = 0; i < BODIES; i++) {
		e += 0.5 * mass[i] * (vel[i][0] * vel[i][0] + vel[i][1] * vel[i][1] +
		    vel[i][2] * vel[i][2]);
		for (int j = i + 1; j < BODIES; j++) {
			double dx = pos[i][0] - pos[j][0];
			double dy = pos[i][1] - pos[j][1];
			double dz = pos[i][2] - pos[j][2];

			e -= mass[i] * mass[j] / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
		}
	}
	return e;
}

uint64_t run(uint32_t n)
{
	double p[3] = { 0, 0, 0 };
	union { double d; uint64_t u; } e;

	for (int i = 0; i < BODIES; i++) {
		for (int k = 0; k < 3; k++) {
			pos[i][k] = start[i][k];
			vel[i][k] = start[i][3 + k];
		}
		mass[i] = start[i][6];
	}
	/* Give the sun the momentum that makes the system's total zero. */
	for (int i = 0; i < BODIES; i++)
		for (int k = 0; k < 3; k++)
			p[k] += vel[i][k] * mass[i];
	for (int k = 0; k < 3; k++)
		vel[0][k] = -p[k] / MASS0;
	for (uint32_t s = 0; s < n; s++)
		advance(0.01);
	e.d = energy();
	return e.u;
}
