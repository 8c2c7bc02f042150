/*
 * replay.c -- runs a libFuzzer harness over files, without libFuzzer
 *
 * replay FILE...
 *
 * Linked with one harness (tests/fuzz/fuzz_*.c) and built with gcc and the
 * sanitizers, this replays saved inputs (tests/fuzz/regress/<harness>/):
 * each file is read whole and passed to LLVMFuzzerTestOneInput once.  A
 * harness reports a bug by aborting or through a sanitizer, so reaching
 * the end means every input passed.  No clang fuzzer runtime is needed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* Optional, as in libFuzzer: a harness's one-time setup. */
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static int
replay(const char *path)
{
	FILE	*fp;
	uint8_t	*buf = NULL, *p;
	size_t	 len = 0, cap = 0, n;

	if ((fp = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((p = realloc(buf, cap)) == NULL) {
				perror("replay");
				free(buf);
				fclose(fp);
				return -1;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	if (ferror(fp)) {
		perror(path);
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	/* An exact-size copy, so that ASan sees reads past the input. */
	if ((p = malloc(len ? len : 1)) == NULL) {
		free(buf);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		p[i] = buf[i];
	free(buf);
	LLVMFuzzerTestOneInput(p, len);
	free(p);
	return 0;
}

int
main(int argc, char **argv)
{
	int failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (replay(argv[i]) == -1)
			failed++;
		else
			printf("ok %d - %s\n", i, argv[i]);
	}
	printf("1..%d\n", argc - 1);
	return failed ? 1 : 0;
}
