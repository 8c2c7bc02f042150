#!/bin/sh
# manpages.t -- the manuals in man/ are there, clean, and say what the code
# does: mandoc -Tlint finds nothing at warning level in any page;
# relaybl.conf(5) documents, as ".It Cm KEY" under the ".Ss The [SECTION]
# section" of its section, every key of etc/relaybl.conf (commented out or
# not) and every key a program reads or knows; each program's page names
# every option its getopt takes (and -V, --version) and every option its
# usage message prints; dnsblctl(8) documents every command of its table
# with that command's options; README.md links every page.
. "$(dirname "$0")/../lib/tap.sh"

MAN=$ROOT/man
PAGES="dnsbld.8 proberd.8 dnsblweb.8 dnsblctl.8 relaybl.conf.5"

# --- every page is there, and lint-clean ---
for p in $PAGES; do
	[ -f "$MAN/$p" ]
	ok $? "man/$p exists"
done
if command -v mandoc >/dev/null 2>&1; then
	for p in $PAGES; do
		[ -f "$MAN/$p" ] || continue
		run mandoc -Tlint -W warning "$MAN/$p"
		is "$rc:$out" "0:" "mandoc -Tlint -W warning man/$p: nothing"
	done
else
	ok 1 "mandoc is installed (make deps, or apt-get install mandoc)"
fi

# --- relaybl.conf(5) documents every key, under its section ---
# documented: SECTION.KEY for each ".It Cm KEY" of a "The [SECTION]
# section" subsection.
awk '
/^\.Ss The \[[a-z]+\] section/ {
	match($0, /\[[a-z]+\]/)
	sec = substr($0, RSTART + 1, RLENGTH - 2)
	next
}
/^\.S[hs] / { sec = "" }
sec != "" && /^\.It Cm [a-z0-9_]+/ { print sec "." $3 }
' "$MAN/relaybl.conf.5" | sort -u > "$T/documented"
ok "$([ -s "$T/documented" ]; echo $?)" \
    "relaybl.conf(5): keys found under their sections"

# example: every "key =" line of etc/relaybl.conf, ";key =" too.
awk '
/^\[[a-z]+\]/ { sec = substr($0, 2, index($0, "]") - 2); next }
/^[;#]?[ \t]*[a-z][a-z0-9_]*[ \t]*=/ {
	k = $0
	sub(/^[;#]?[ \t]*/, "", k)
	sub(/[ \t]*=.*/, "", k)
	print sec "." k
}
' "$ROOT/etc/relaybl.conf" | sort -u > "$T/example"
ok "$([ "$(wc -l < "$T/example")" -gt 50 ]; echo $?)" \
    "etc/relaybl.conf: its keys read ($(wc -l < "$T/example"))"
missing=$(comm -23 "$T/example" "$T/documented" | tr '\n' ' ')
is "$missing" "" "every key of etc/relaybl.conf is in relaybl.conf(5)"

# code: every config_str/int/duration/size call with a literal section and
# key, and every key of the lists given to config_check_keys (the keys a
# program knows, also those it reads through a variable).
find "$ROOT/dnsbl" "$ROOT/prober" -name '*.c' | sort | xargs perl -e '
local $/;
for my $f (@ARGV) {
	open(my $fh, "<", $f) or die "$f: $!\n";
	my $s = <$fh>;
	while ($s =~ /config_(?:str|int|duration|size)\s*\(\s*[^,()]+,\s*"(\w+)",\s*"(\w+)"/g) {
		print "$1.$2\n";
	}
	while ($s =~ /config_check_keys\s*\(\s*[^,()]+,\s*"(\w+)",\s*(\w+)\s*\)/g) {
		my ($sec, $var) = ($1, $2);
		my @lists = substr($s, 0, $-[0]) =~
		    /\b\Q$var\E\[\]\s*=\s*\{([^}]*)\}/g;
		die "$f: no list $var before config_check_keys\n" unless @lists;
		print "$sec.$_\n" for $lists[-1] =~ /"(\w+)"/g;
	}
}' | sort -u > "$T/code"
ok "$([ "$(wc -l < "$T/code")" -gt 50 ]; echo $?)" \
    "the sources: the keys they read ($(wc -l < "$T/code"))"
missing=$(comm -23 "$T/code" "$T/documented" | tr '\n' ' ')
is "$missing" "" "every key the programs read is in relaybl.conf(5)"

# --- every option of every program is in its page ---
# has_flag PAGE X: ".Fl X" (X a letter, or -long) somewhere in PAGE.
has_flag() {
	grep -Eq "(^|[ .])Fl $2([^A-Za-z0-9_-]|\$)" "$MAN/$1"
}
# getopt_letters FILE: the option letters of every getopt or getopt_long
# call in FILE that names its option string literally.
getopt_letters() {
	perl -e 'local $/; my $s = <>;
	while ($s =~ /getopt(?:_long)?\s*\(\s*argc\s*,\s*argv\s*,\s*"([^"]*)"/g) {
		(my $l = $1) =~ s/[^A-Za-z0-9]//g; print "$_\n" for split //, $l;
	}' "$1" | sort -u
}
for prog in dnsbl/server/dnsbld.c:dnsbld prober/proberd.c:proberd \
    dnsbl/web/dnsblweb.c:dnsblweb dnsbl/ctl/dnsblctl.c:dnsblctl; do
	src=${prog%%:*} name=${prog##*:}
	letters=$(getopt_letters "$ROOT/$src")
	ok "$([ -n "$letters" ]; echo $?)" "$name: getopt's options read"
	missing=
	for l in $letters V -version; do
		has_flag "$name.8" "$l" || missing="$missing -$l"
	done
	is "$missing" "" "$name(8) names every option getopt takes, and -V"
	# What the usage message prints, from the program as built.
	case $name in
	proberd)	exe=$BIN/prober/$name ;;
	*)		exe=$BIN/dnsbl/$name ;;
	esac
	if [ -x "$exe" ]; then
		usage=$("$exe" -'?' 2>&1)
		flags=$(printf '%s\n' "$usage" |
		    grep -oE '(^|[[ ])--?[A-Za-z][A-Za-z-]*' |
		    sed 's/^[[ ]*-//' | sort -u)
		ok "$([ -n "$flags" ]; echo $?)" "$name: usage read"
		missing=
		for f in $flags; do
			has_flag "$name.8" "$f" || missing="$missing -$f"
		done
		is "$missing" "" "$name(8) names every option of its usage"
	fi
done

# dnsblctl's commands: the table in dnsblctl.c, with each command's option
# letters (a letter that a long option stands for may be named by the
# long option instead); each is an ".It Cm NAME" item that names them.
perl -e 'local $/; my $s = <>; my %long;
while ($s =~ /\{\s*"([a-z][a-z-]*)",\s*\w+_argument,\s*NULL,\s*\x27(\w)\x27\s*\}/g) {
	$long{$2} = $1;
}
while ($s =~ /\{\s*"(\w+)",\s*"[^"]*",\s*(?:NULL|"([^"]*)")\s*,/g) {
	my ($cmd, $o) = ($1, $2 // "");
	$o =~ s/[^A-Za-z0-9]//g;
	print join(" ", $cmd, map { $long{$_} ? "$_/-$long{$_}" : $_ }
	    split //, $o), "\n";
}' "$ROOT/dnsbl/ctl/dnsblctl.c" > "$T/commands"
ok "$([ "$(wc -l < "$T/commands")" -ge 14 ]; echo $?)" \
    "dnsblctl: its command table read ($(wc -l < "$T/commands") commands)"
while read -r cmd opts; do
	item=$(grep -E "^\.It Cm $cmd( |\$)" "$MAN/dnsblctl.8")
	ok "$([ -n "$item" ]; echo $?)" "dnsblctl(8): the command $cmd"
	for o in $opts; do
		found=1
		for alt in $(echo "$o" | tr '/' ' '); do
			printf '%s\n' "$item" |
			    grep -Eq "(^|[ ])Fl $alt([^A-Za-z0-9_-]|\$)" &&
			    found=0
		done
		ok $found "  with its option -${o%%/*}"
	done
done < "$T/commands"

# --- README.md links every page ---
for p in $PAGES; do
	grep -q "man/$p" "$ROOT/README.md"
	ok $? "README.md links man/$p"
done

done_testing
