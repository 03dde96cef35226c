/*
 * Unit tests of the template engine (unpacker/tpl.h): the cases in
 * tests/unit/tpl_cases.txt (real images' templates and the everyday
 * language, each expectation checked against the real pongo2 with
 * tests/tpl_oracle/), then what the file format cannot say: error
 * positions, every limit, the context's edge cases and determinism.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tests/t.h"
#include "unpacker/tpl.h"

#define CASES "tests/unit/tpl_cases.txt"
#define CASES_MIN 100 /* a truncated file must not pass quietly */

static const struct tpl_kv config[] = {
    {"user.foo", "bar\r\n"},
    {"limits.cpu", "2"},
    {"volatile.eth0.hwaddr", "00:16:3e:aa:bb:cc"},
    {"user.empty", ""},
    {"user.user-data", "#cloud-config\npackages: [vim]\n"},
};
static const struct tpl_kv eth0[] = {
    {"type", "nic"}, {"nictype", "bridged"}, {"parent", "lxdbr0"}};
static const struct tpl_kv root[] = {
    {"type", "disk"}, {"path", "/"}, {"pool", "default"}};
static const struct tpl_device devices[] = {
    {"eth0", eth0, 3},
    {"root", root, 3},
};
static const struct tpl_kv props[] = {{"default", "127.0.1.1"}, {"n", "3"}};

static void
ctx_init(struct tpl_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->trigger = "start";
	c->path = "/etc/hosts";
	c->name = "c1";
	c->type = "container";
	c->architecture = "x86_64";
	c->ephemeral = 0;
	c->privileged = 1;
	c->config = config;
	c->nconfig = sizeof(config) / sizeof(config[0]);
	c->devices = devices;
	c->ndevices = 2;
	c->properties = props;
	c->nproperties = 2;
}

/*
 * Parses and renders src: 0 with *out, or -1 with err. The message must
 * start with "t.tpl:LINE:COL: " and be one line; *out must then be NULL.
 */
static int
run(const char *src, size_t len, const struct tpl_limits *lim,
    const struct tpl_ctx *ctx, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	struct tpl_limits dl;
	struct tpl_ctx dc;
	struct tpl *t = NULL;
	int rc;

	if (lim == NULL) {
		tpl_limits_default(&dl);
		lim = &dl;
	}
	if (ctx == NULL) {
		ctx_init(&dc);
		ctx = &dc;
	}
	*out = NULL;
	*outlen = 0;
	err[0] = '\0';
	if (tpl_parse("t.tpl", src, len, lim, &t, err, errlen) == -1)
		return -1;
	rc = tpl_render(t, ctx, lim, out, outlen, err, errlen);
	tpl_free(t);
	return rc;
}

/* "t.tpl:LINE:COL: " with both numbers at least 1, then a message. */
static int
well_formed_error(const char *err)
{
	const char *p = err;
	int i;

	if (strncmp(p, "t.tpl:", 6) != 0)
		return 0;
	p += 6;
	for (i = 0; i < 2; i++) {
		if (!isdigit((unsigned char)*p) || *p == '0')
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p++ != ':')
			return 0;
	}
	return *p == ' ' && p[1] != '\0' && strchr(err, '\n') == NULL;
}

/* ---- the case file ---- */

struct buf {
	char *p;
	size_t n, cap;
	int lines;
};

static void
buf_line(struct buf *b, const char *line, size_t n)
{
	if (b->n + n + 2 > b->cap) {
		b->cap = (b->n + n + 2) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	if (b->lines++ > 0)
		b->p[b->n++] = '\n';
	memcpy(b->p + b->n, line, n);
	b->n += n;
	b->p[b->n] = '\0';
}

enum sect { S_NONE, S_TPL, S_EXPECT, S_ERROR };

static int ncases;

static void
check_case(const char *name, struct buf *tpl, struct buf *want, int is_error)
{
	char err[512], *out;
	size_t outlen;
	int rc;

	ncases++;
	rc = run(tpl->p ? tpl->p : "", tpl->n, NULL, NULL, &out, &outlen, err,
	    sizeof(err));
	if (is_error) {
		T_EXPECT(rc == -1 && out == NULL,
		    "%s: rendered \"%s\", expected "
		    "an error containing \"%s\"",
		    name, out ? out : "", want->p ? want->p : "");
		if (rc == -1) {
			T_EXPECT(well_formed_error(err),
			    "%s: malformed error "
			    "\"%s\"",
			    name, err);
			T_EXPECT(
			    want->p != NULL && strstr(err, want->p) != NULL,
			    "%s: error \"%s\" lacks \"%s\"", name, err,
			    want->p ? want->p : "");
		}
	} else {
		T_EXPECT(rc == 0, "%s: %s", name, err);
		if (rc == 0)
			T_EXPECT(outlen == want->n &&
				     memcmp(out, want->p ? want->p : "",
					 outlen) == 0 &&
				     out[outlen] == '\0',
			    "%s: rendered \"%s\" (%zu bytes), expected \"%s\" "
			    "(%zu bytes)",
			    name, out, outlen, want->p ? want->p : "", want->n);
	}
	free(out);
}

T_TEST(the_case_file)
{
	FILE *f = fopen(CASES, "r");
	char *line = NULL, name[256] = "";
	size_t cap = 0;
	ssize_t n;
	struct buf tpl = {0}, want = {0};
	enum sect s = S_NONE;
	int have = 0, is_error = 0;

	T_EXPECT(f != NULL, "cannot open %s", CASES);
	if (f == NULL)
		return;
	for (;;) {
		n = getline(&line, &cap, f);
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n < 0 || strncmp(line, "=== ", 4) == 0) {
			if (have) {
				T_EXPECT(s == S_EXPECT || s == S_ERROR,
				    "%s: no --- expect or --- error", name);
				check_case(name, &tpl, &want, is_error);
			}
			if (n < 0)
				break;
			snprintf(name, sizeof(name), "%s", line + 4);
			have = 1;
			s = S_NONE;
			is_error = 0;
			free(tpl.p);
			free(want.p);
			memset(&tpl, 0, sizeof(tpl));
			memset(&want, 0, sizeof(want));
		} else if (!have) {
			continue; /* the header */
		} else if (strcmp(line, "--- template") == 0) {
			s = S_TPL;
		} else if (strcmp(line, "--- expect") == 0) {
			s = S_EXPECT;
		} else if (strcmp(line, "--- error") == 0) {
			s = S_ERROR;
			is_error = 1;
		} else if (s == S_TPL) {
			buf_line(&tpl, line, (size_t)n);
		} else if (s == S_EXPECT || s == S_ERROR) {
			buf_line(&want, line, (size_t)n);
		} else {
			T_FAIL(
			    "%s: a line outside any section: %s", name, line);
		}
	}
	free(line);
	free(tpl.p);
	free(want.p);
	fclose(f);
	T_EXPECT(ncases >= CASES_MIN, "only %d cases in %s", ncases, CASES);
	printf("# %d cases from %s\n", ncases, CASES);
}

/* ---- positions ---- */

T_TEST(errors_name_line_and_column)
{
	static const struct {
		const char *src, *where;
	} c[] = {
	    {"{{ ) }}", "t.tpl:1:4: "},
	    {"abc\n  {{ ) }}", "t.tpl:2:6: "},
	    {"a\nb\nc\n{% if %}", "t.tpl:4:"},
	    {"x\n\n\n      {% nosuchtag %}", "t.tpl:4:"},
	    {"{{ nope|nosuchfilter }}", "t.tpl:1:"},
	};
	char err[512], *out;
	size_t i, n;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		T_EXPECT(run(c[i].src, strlen(c[i].src), NULL, NULL, &out, &n,
			     err, sizeof(err)) == -1 &&
			     out == NULL,
		    "case %zu passed", i);
		T_EXPECT(strncmp(err, c[i].where, strlen(c[i].where)) == 0 &&
			     well_formed_error(err),
		    "case %zu: \"%s\", expected \"%s...\"", i, err, c[i].where);
	}
}

/* A render-time error (not a parse error) names the position too. */
T_TEST(render_errors_name_the_position)
{
	const char *src = "ok\n{{ 1 / 0 }}";
	char err[512], *out;
	size_t n;

	T_CHECK(run(src, strlen(src), NULL, NULL, &out, &n, err, sizeof(err)) ==
		-1);
	T_CHECK(out == NULL);
	T_EXPECT(strncmp(err, "t.tpl:2:", 8) == 0 && well_formed_error(err),
	    "\"%s\"", err);
}

/* ---- limits ---- */

static char *
repeat(const char *unit, size_t times, const char *tail)
{
	size_t u = strlen(unit), t = strlen(tail), i;
	char *s = malloc(u * times + t + 1);

	if (s == NULL)
		abort();
	for (i = 0; i < times; i++)
		memcpy(s + i * u, unit, u);
	memcpy(s + u * times, tail, t + 1);
	return s;
}

T_TEST(source_larger_than_the_limit)
{
	struct tpl_limits lim;
	char err[512], *out, *src;
	size_t n;

	tpl_limits_default(&lim);
	src = repeat("x", lim.source_max + 1, "");
	T_CHECK(run(src, lim.source_max + 1, NULL, NULL, &out, &n, err,
		    sizeof(err)) == -1);
	T_CONTAINS(err, "t.tpl:");
	T_CONTAINS(err, "larger");
	free(src);
	src = repeat("x", lim.source_max, ""); /* exactly the limit: fine */
	T_CHECK(run(src, lim.source_max, NULL, NULL, &out, &n, err,
		    sizeof(err)) == 0);
	T_EQ_INT(n, lim.source_max);
	free(out);
	free(src);
}

/* A template that prints gigabytes stops at output_max. */
T_TEST(output_larger_than_the_limit)
{
	const char *src = "{% for a in s %}{% for b in s %}{% for c in s %}"
			  "{{ s }}{% endfor %}{% endfor %}{% endfor %}";
	char err[512], *out, *wide;
	size_t n;
	struct tpl_limits lim;
	struct tpl *t;
	struct tpl_ctx ctx;
	struct tpl_kv one;

	/* s: 1,000 bytes, so the template would print 10^12 bytes. */
	wide = repeat("y", 1000, "");
	one.key = "s";
	one.value = wide;
	ctx_init(&ctx);
	ctx.properties = &one;
	ctx.nproperties = 1;
	tpl_limits_default(&lim);
	src = "{% set s = properties.s %}{% for a in s %}{% for b in s %}"
	      "{% for c in s %}{{ s }}{% endfor %}{% endfor %}{% endfor %}";
	T_CHECK(tpl_parse("t.tpl", src, strlen(src), &lim, &t, err,
		    sizeof(err)) == 0);
	T_CHECK(tpl_render(t, &ctx, &lim, &out, &n, err, sizeof(err)) == -1);
	T_CHECK(out == NULL);
	T_CONTAINS(err, "output is larger than");
	T_CHECK(well_formed_error(err));
	tpl_free(t);
	free(wide);
}

/* A filter cannot build a string past the output limit either. */
T_TEST(filters_bounded_by_the_output_limit)
{
	const char *src = "{{ \"x\"|ljust:100000000 }}";
	char err[512], *out;
	size_t n;

	T_CHECK(run(src, strlen(src), NULL, NULL, &out, &n, err, sizeof(err)) ==
		-1);
	T_CHECK(out == NULL);
	T_CONTAINS(err, "larger than the output");
}

/* Loops that print nothing still stop: steps, not output. */
T_TEST(work_bounded_by_steps)
{
	struct tpl_limits lim;
	char err[512], *out, *src;
	size_t n;

	/* 8 nested loops over 10 characters: 10^8 iterations. */
	src = repeat("{% for x in \"0123456789\" %}", 8,
	    "{% endfor %}{% endfor %}{% endfor %}{% endfor %}"
	    "{% endfor %}{% endfor %}{% endfor %}{% endfor %}done");
	T_CHECK(run(src, strlen(src), NULL, NULL, &out, &n, err, sizeof(err)) ==
		-1);
	T_CHECK(out == NULL);
	T_CONTAINS(err, "steps");
	T_CHECK(well_formed_error(err));
	/* The same with a smaller depth of loops fits. */
	tpl_limits_default(&lim);
	free(src);
	src = repeat("{% for x in \"0123456789\" %}", 3,
	    "{% endfor %}{% endfor %}{% endfor %}done");
	T_CHECK(
	    run(src, strlen(src), &lim, NULL, &out, &n, err, sizeof(err)) == 0);
	T_EQ_STR(out, "done");
	free(out);
	/* And a lowered steps_max stops it. */
	lim.steps_max = 500;
	T_CHECK(run(src, strlen(src), &lim, NULL, &out, &n, err, sizeof(err)) ==
		-1);
	T_CONTAINS(err, "more than 500 steps");
	free(src);
}

T_TEST(nesting_bounded)
{
	struct tpl_limits lim;
	char err[512], *out, *src, *tail;
	size_t n;

	tpl_limits_default(&lim);
	/* Blocks: depth_max ifs fit, one more does not. */
	tail = repeat("{% endif %}", lim.depth_max + 1, "");
	src = repeat("{% if true %}", lim.depth_max + 1, tail);
	T_CHECK(run(src, strlen(src), NULL, NULL, &out, &n, err, sizeof(err)) ==
		-1);
	T_CONTAINS(err, "deeper than");
	free(src);
	src = repeat(
	    "{% if true %}", lim.depth_max, tail + strlen("{% endif %}"));
	T_CHECK(
	    run(src, strlen(src), NULL, NULL, &out, &n, err, sizeof(err)) == 0);
	free(out);
	free(src);
	free(tail);
	/* Expressions: parentheses. */
	tail = repeat(")", 1000, " }}");
	src = repeat("(", 1000, "");
	{
		char *full = malloc(strlen(src) + strlen(tail) + 8);

		if (full == NULL)
			abort();
		sprintf(full, "{{ %s1%s", src, tail);
		T_CHECK(run(full, strlen(full), NULL, NULL, &out, &n, err,
			    sizeof(err)) == -1);
		T_CONTAINS(err, "nested deeper than");
		free(full);
	}
	free(src);
	free(tail);
	/* A filter chain. */
	src = repeat("|upper", 1000, " }}");
	{
		char *full = malloc(strlen(src) + 8);

		if (full == NULL)
			abort();
		sprintf(full, "{{ 1%s", src);
		T_CHECK(run(full, strlen(full), NULL, NULL, &out, &n, err,
			    sizeof(err)) == -1);
		T_CHECK(well_formed_error(err));
		free(full);
	}
	free(src);
}

/* pongo2 reads 0x01 as the end of input: refused with a clear message. */
T_TEST(the_byte_0x01)
{
	char err[512], *out;
	size_t n;

	T_CHECK(run("a\x01"
		    "b",
		    3, NULL, NULL, &out, &n, err, sizeof(err)) == -1);
	T_CONTAINS(err, "0x01");
}

/* Text is bytes: NUL and invalid UTF-8 pass through unchanged. */
T_TEST(binary_text_passes_through)
{
	const char src[] = "a\0b\xff\xfe{{ container.name }}\x80";
	char err[512], *out;
	size_t n;

	T_CHECK(run(src, sizeof(src) - 1, NULL, NULL, &out, &n, err,
		    sizeof(err)) == 0);
	T_EQ_INT(n, 8);
	T_CHECK(out != NULL && memcmp(out,
				   "a\0b\xff\xfe"
				   "c1\x80",
				   8) == 0);
	free(out);
}

/* ---- the context ---- */

T_TEST(context_edges)
{
	static const struct tpl_kv twice[] = {{"k", "first"}, {"k", "last"}};
	struct tpl_ctx ctx;
	char err[512], *out;
	size_t n;
	const char *src = "[{{ config_get(\"k\", \"d\") }}][{{ trigger }}]"
			  "[{{ path }}][{{ container.ephemeral }}]"
			  "[{{ devices|length }}][{{ properties.n }}]";

	memset(&ctx, 0, sizeof(ctx)); /* everything absent */
	ctx.config = twice;
	ctx.nconfig = 2;
	ctx.ephemeral = 1;
	T_CHECK(
	    run(src, strlen(src), NULL, &ctx, &out, &n, err, sizeof(err)) == 0);
	T_EQ_STR(out, "[last][][][true][0][]");
	free(out);
}

/* Each trigger renders as itself. */
T_TEST(every_trigger)
{
	static const char *trig[] = {"create", "copy", "start", "rename"};
	struct tpl_ctx ctx;
	char err[512], *out, want[64];
	size_t i, n;
	const char *src = "{% if trigger == \"create\" %}C{% endif %}"
			  "{{ trigger }}";

	for (i = 0; i < 4; i++) {
		ctx_init(&ctx);
		ctx.trigger = trig[i];
		snprintf(
		    want, sizeof(want), "%s%s", i == 0 ? "C" : "", trig[i]);
		T_CHECK(run(src, strlen(src), NULL, &ctx, &out, &n, err,
			    sizeof(err)) == 0);
		T_EQ_STR(out, want);
		free(out);
	}
}

/* One parse renders many times, the same each time, for each context. */
T_TEST(parse_once_render_many)
{
	const char *src = "{{ container.name }}:{% for k, v in config sorted %}"
			  "{{ k }};{% endfor %}";
	struct tpl_limits lim;
	struct tpl_ctx ctx;
	struct tpl *t;
	char err[512], *a, *b;
	size_t na, nb;

	tpl_limits_default(&lim);
	ctx_init(&ctx);
	T_CHECK(tpl_parse("t.tpl", src, strlen(src), &lim, &t, err,
		    sizeof(err)) == 0);
	T_CHECK(tpl_render(t, &ctx, &lim, &a, &na, err, sizeof(err)) == 0);
	T_CHECK(tpl_render(t, &ctx, &lim, &b, &nb, err, sizeof(err)) == 0);
	T_CHECK(na == nb && memcmp(a, b, na) == 0);
	T_EQ_STR(a, "c1:limits.cpu;user.empty;user.foo;user.user-data;"
		    "volatile.eth0.hwaddr;");
	free(b);
	ctx.name = "other";
	T_CHECK(tpl_render(t, &ctx, &lim, &b, &nb, err, sizeof(err)) == 0);
	T_CHECK(strncmp(b, "other:", 6) == 0);
	free(a);
	free(b);
	tpl_free(t);
}

int
main(void)
{
	T_RUN(the_case_file);
	T_RUN(errors_name_line_and_column);
	T_RUN(render_errors_name_the_position);
	T_RUN(source_larger_than_the_limit);
	T_RUN(output_larger_than_the_limit);
	T_RUN(filters_bounded_by_the_output_limit);
	T_RUN(work_bounded_by_steps);
	T_RUN(nesting_bounded);
	T_RUN(the_byte_0x01);
	T_RUN(binary_text_passes_through);
	T_RUN(context_edges);
	T_RUN(every_trigger);
	T_RUN(parse_once_render_many);
	return T_DONE();
}
