/*
 * textfile.c -- small configuration files read whole, then line by line
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "textfile.h"

int
textfile_read(const char *path, size_t max, const char *what, char **text,
    size_t *len)
{
	FILE	*fp;
	char	*buf;
	size_t	 n;

	*text = NULL;
	*len = 0;
	if ((fp = fopen(path, "r")) == NULL) {
		log_warn("%s %s", what, path);
		return -1;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		log_warn("%s %s", what, path);
		fclose(fp);
		return -1;
	}
	n = fread(buf, 1, max + 1, fp);
	if (ferror(fp) || n > max) {
		if (ferror(fp))
			log_warn("%s %s", what, path);
		else
			log_warnx("%s %s: over %zu MB", what, path, max >> 20);
		fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	*text = buf;
	*len = n;
	return 0;
}

size_t
textfile_lines(const char *text, size_t len)
{
	size_t n = 1;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

int
textfile_line(const char *text, size_t len, size_t *off, char *buf,
    size_t size, const char *name, int *line)
{
	const char	*nl;
	char		*hash;
	size_t		 l;

	if (*off >= len)
		return 0;
	nl = memchr(text + *off, '\n', len - *off);
	l = (nl ? (size_t)(nl - text) : len) - *off;
	(*line)++;
	if (l >= size || memchr(text + *off, '\0', l) != NULL) {
		log_warnx("%s:%d: %s", name, *line, l >= size ?
		    "line too long" : "NUL byte");
		return -1;
	}
	memcpy(buf, text + *off, l);
	buf[l] = '\0';
	*off += l + 1;
	if ((hash = strchr(buf, '#')) != NULL)
		*hash = '\0';
	return 1;
}

int
textfile_fields(char *line, char **field, int max)
{
	char	*save;
	int	 n = 0;

	for (char *s = strtok_r(line, " \t\r", &save); s != NULL && n <= max;
	    s = strtok_r(NULL, " \t\r", &save)) {
		if (n < max)
			field[n] = s;
		n++;
	}
	return n;
}
