/*
 * The Adagrad update as a C programmer writes it, for `go run ./bench peers`:
 * one loop, left to the compiler. bench builds it at run time with
 *
 *     cc -O3 -march=native -fno-math-errno -o adagrad adagrad.c -lm
 *
 * so GCC vectorizes it for this CPU (and, by its default -ffp-contract=fast, may
 * fuse g*g + s into an FMA: this is a speed peer, not a reference). The form is
 * PyTorch's: s += g*g; x -= lr*g / (sqrt(s) + eps).
 *
 * usage: adagrad -sizes 1024,16384 -time 0.2 -count 1
 * prints one Go benchmark line per size and run:
 *     BenchmarkPeers/N=1024/impl=c-gcc  <iterations>  <ns> ns/op
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* noinline: the update is called as a function, as every other peer's is (ours
 * through kernel.Apply, NumPy's and PyTorch's through theirs). Inlined into the
 * timing loop, GCC would overlap one call's tail with the next call's start, which
 * no training loop, with its other work between steps, gets. */
__attribute__((noinline)) static void adagrad(float *restrict x, float *restrict s, const float *restrict g,
                    size_t n, float lr, float eps) {
	for (size_t i = 0; i < n; i++) {
		s[i] += g[i] * g[i];
		x[i] -= lr * g[i] / (sqrtf(s[i]) + eps);
	}
}

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* uniform in [0, 1) from a 64-bit LCG: the values only need to be ordinary. */
static double unit(unsigned long long *state) {
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*state >> 11) / 9007199254740992.0;
}

static void run(size_t n, double seconds, const char *name) {
	float *x = malloc(n * sizeof *x), *s = malloc(n * sizeof *s), *g = malloc(n * sizeof *g);
	if (!x || !s || !g) {
		fprintf(stderr, "adagrad: out of memory for N=%zu\n", n);
		exit(1);
	}
	unsigned long long state = 1;
	for (size_t i = 0; i < n; i++) {
		x[i] = 2 * unit(&state) - 1;
		s[i] = 10 * unit(&state);
		g[i] = 2 * unit(&state) - 1;
	}
	adagrad(x, s, g, n, 1e-3f, 1e-7f); /* touch the pages, warm the caches */
	long calls = 0, batch = 1 + 4096 / (long)n;
	double start = now(), elapsed;
	do {
		for (long b = 0; b < batch; b++)
			adagrad(x, s, g, n, 1e-3f, 1e-7f);
		calls += batch;
		elapsed = now() - start;
	} while (elapsed < seconds);
	printf("BenchmarkPeers/N=%zu/impl=%s \t%ld\t%.1f ns/op\n", n, name, calls, elapsed / calls * 1e9);
	free(x), free(s), free(g);
}

int main(int argc, char **argv) {
	const char *sizes = "1024", *name = "c-gcc";
	double seconds = 0.2;
	int count = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-sizes")) sizes = argv[i + 1];
		else if (!strcmp(argv[i], "-time")) seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "-count")) count = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "-name")) name = argv[i + 1];
		else {
			fprintf(stderr, "adagrad: unknown flag %s\n", argv[i]);
			return 2;
		}
	}
	for (int c = 0; c < count; c++) {
		for (const char *p = sizes; *p;) {
			char *end;
			long n = strtol(p, &end, 10);
			if (end == p || n <= 0) {
				fprintf(stderr, "adagrad: bad size list %s\n", sizes);
				return 2;
			}
			run((size_t)n, seconds, name);
			p = *end == ',' ? end + 1 : end;
		}
	}
	return 0;
}
