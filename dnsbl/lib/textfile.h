/*
 * textfile.h -- small configuration files read whole, then line by line
 *
 * The access and keys files of dnsbld are read into memory at once (with
 * a size cap, so a wrong path to a huge file is refused, not swallowed)
 * and parsed from memory, so the parsers are fuzzed on bytes alone.  A
 * line is cut at '#' (a comment); a line longer than the caller's buffer
 * or holding a NUL byte is an error naming the file and line.
 */
#ifndef RELAYBL_TEXTFILE_H
#define RELAYBL_TEXTFILE_H

#include <stddef.h>

/*
 * Reads path whole (at most max bytes) into *text (malloc'd, the caller
 * frees it) and *len.  Returns 0, or -1 with the reason logged ("what
 * PATH: ...").
 */
int	textfile_read(const char *path, size_t max, const char *what,
	    char **text, size_t *len);

/* The number of lines in text: an upper bound for a parser's table. */
size_t	textfile_lines(const char *text, size_t len);

/*
 * Copies the line of text at *off into buf (size bytes, NUL-terminated,
 * comment cut), moves *off past it and counts *line.  Returns 1, 0 at
 * the end of text, or -1 with "name:line: ..." logged.
 */
int	textfile_line(const char *text, size_t len, size_t *off, char *buf,
	    size_t size, const char *name, int *line);

/*
 * Splits line (in place) into fields separated by blanks (space, tab,
 * CR) into field[], at most max of them.  Returns how many there were,
 * counting to max + 1 at most: max + 1 means "more than max".
 */
int	textfile_fields(char *line, char **field, int max);

#endif
