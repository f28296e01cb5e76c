#!/bin/sh
# SPDX-License-Identifier: MIT
# tui3_keys.sh -- end-to-end checks of what issue 23's users reach for
# (Terminal UI, part 3): warnings at a glance, sorting Resources, hiding
# the ended tasks, the cursor history, search and the filter in the
# Timeline and the Await tree, the mouse and htop's F-keys, the editor and
# the clipboard, and `?` listing it all.  Each runs in tmux at 120x40 and
# at 80x24 (the C locale, no colours), reading the screen as the user does;
# mouse reports are the bytes a terminal sends (SGR, "ESC [ < b;x;y M").
#
# Run by `make test` from the top directory; BUILD names the build directory
# (default build); COSCOPE may name another coscope binary.  Needs tmux and
# the sqlite3 shell.
cd "$(dirname "$0")/../.." || exit 1
suite=tui3_keys
needs="samples/showcase"
. tests/tui/screen.sh
# start W H DB [ENV...]: coscope tui DB in a new session of W x H (80x24:
# the C locale without colours).
start() {
    w=$1 h=$2 db=$3
    shift 3
    loc=
    [ "$w" = 80 ] && loc="LANG=C LC_ALL=C NO_COLOR=1"
    tm kill-session -t t 2>/dev/null
    tm_new -d -s t -x "$w" -y "$h" "env VISUAL= $loc $* $coscope tui $db; echo \"tui exited \$?\"; sleep 600"
    see "$w: opens" "STATE AT CURSOR"
}
# click X Y [BUTTON]: a press and a release at column X, row Y (from 1).
click() { tm send-keys -t t -l "$(printf '\033[<%d;%d;%dM\033[<%d;%d;%dm' "${3:-0}" "$1" "$2" "${3:-0}" "$1" "$2")"; }
# drag X1 X2 Y: the left button down at X1, up at X2.
drag() { tm send-keys -t t -l "$(printf '\033[<0;%d;%dM\033[<0;%d;%dm' "$1" "$3" "$2" "$3")"; }
wheel_down() { tm send-keys -t t -l "$(printf '\033[<65;%d;%dM' "$1" "$2")"; }
# The column (from 1) of TEXT on the first line (the tabs).
tab_col() { screen | head -1 | awk -v s="$1" '{ print index($0, s) }'; }
# The time the status line's cursor is at, in ns.
cursor_ns() { screen | tail -1 | sed -n 's/^ *t=\([0-9.]*[a-z]*\) .*/\1/p' | to_ns; }
to_ns() {
    awk '{ v = $0; u = v; sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u)
           m = u == "s" ? 1e9 : u == "ms" ? 1e6 : u == "us" ? 1e3 : 1; printf "%.0f\n", v * m }'
}
# near WHAT GOT WANT: GOT within a microsecond of WANT (times shown to the us).
near() {
    if [ -n "$2" ] && awk -v a="$2" -v b="$3" 'BEGIN { d = a - b; exit !(d <= 1000 && d >= -1000) }'; then ok
    else bad "$1: $2 ns, expected $3 ns" "$(screen)"; fi
}

"$coscope" run --force -o "$tmp/showcase.db" -- "$samples/showcase" > /dev/null 2>&1
db=$tmp/showcase.db
[ -s "$db" ] || { echo "tui3_keys: showcase not recorded"; exit 1; }
dur=$(q "SELECT value FROM meta WHERE key = 'duration_ns'")
nwarn=$(q "SELECT COUNT(*) FROM warnings")
warned=$(q "SELECT task FROM warnings WHERE task IS NOT NULL ORDER BY ts LIMIT 1")
warned_name=$(q "SELECT name FROM tasks WHERE id = $warned")
quiet=$(q "SELECT id FROM tasks WHERE id NOT IN (SELECT task FROM warnings WHERE task IS NOT NULL
                                                UNION SELECT task2 FROM warnings WHERE task2 IS NOT NULL) ORDER BY id LIMIT 1")
quiet_name=$(q "SELECT name FROM tasks WHERE id = $quiet")
wts=$(q "SELECT ts FROM warnings WHERE task = $warned ORDER BY ts LIMIT 1")
wdur=$(q "SELECT dur FROM warnings WHERE task = $warned ORDER BY ts LIMIT 1")
# A moment inside the warning (the slow step: the task is alive).
wmid=$(awk -v a="$wts" -v d="$wdur" 'BEGIN { printf "%dus", (a + d / 2) / 1000 }')
[ -n "$warned" ] && [ -n "$quiet" ] || { echo "tui3_keys: the showcase has no warning naming a task"; exit 1; }
spawn_at() { q "SELECT l.file || ':' || l.line FROM tasks t JOIN locations l ON l.id = t.spawn_loc WHERE t.id = $1"; }

# A stand-in editor: writes the arguments it was given, one a line.
cat > "$tmp/ed.sh" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$tmp/ed.args"
EOF
cat > "$tmp/visual.sh" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$tmp/visual.args"
EOF
chmod +x "$tmp/ed.sh" "$tmp/visual.sh"

for size in "120 40" "80 24"; do
    set -- $size
    W=$1 H=$2
    if [ "$W" = 80 ]; then up='^' down='v'; else up='▲' down='▼'; fi
    nw=$((W / 4)); [ $nw -lt 14 ] && nw=14; [ $nw -gt 30 ] && nw=30
    x0=$((nw + 1)) ncells=$((W - nw - 1))   # the timeline's first cell (from 0) and cells

    # ---- 5. warnings at a glance ---------------------------------------------
    start "$W" "$H" "$db"
    see "5 ($W): the Warnings tab counts them" "3 Warnings ($nwarn)"
    if screen | grep -Eq "^! +$warned $warned_name "; then ok; else bad "5 ($W): '!' on #$warned's row in Tasks" "$(screen)"; fi
    if screen | grep -Eq "^ +$quiet $quiet_name "; then ok; else bad "5 ($W): no '!' on #$quiet's row" "$(screen)"; fi
    keys 4 C
    see "5 ($W): timeline, folded to main's children" "#$warned $warned_name"
    if screen | grep "#$warned $warned_name" | cut -c1-"$nw" | grep -q '!'; then ok
    else bad "5 ($W): '!' in #$warned's name column of the timeline" "$(screen)"; fi
    if screen | grep "#$quiet $quiet_name" | cut -c1-"$nw" | grep -q '!'; then bad "5 ($W): no '!' beside #$quiet" "$(screen)"
    else ok; fi
    keys 5
    goto "$wmid"
    see "5 ($W): the tree at the warning" "#$warned $warned_name"
    if screen | grep -q "^! .*#$warned $warned_name "; then ok; else bad "5 ($W): '!' on #$warned's node in the tree" "$(screen)"; fi
    if screen | grep -q "^! .*#$quiet $quiet_name "; then bad "5 ($W): no '!' on #$quiet's node" "$(screen)"; else ok; fi

    # ---- 7. cursor history ------------------------------------------------------
    keys 1
    goto 1s
    see "7 ($W): t went to 1s" "t=1.000000s /"
    keys G
    see "7 ($W): G to the end" "t=$(awk -v ns="$dur" 'BEGIN { printf "%.6fs", ns / 1e9 }') /"
    keys '`'
    see "7 ($W): \` back to before G" "t=1.000000s /"
    keys '`'
    see "7 ($W): \` again: before t" "t=$(ms "$(awk -v a="$wts" -v d="$wdur" 'BEGIN { printf "%d", int((a + d / 2) / 1000) * 1000 }')") /"
    keys 3 Enter
    see "7 ($W): Enter on the warning: its time" "t=$(ms "$wts") /"
    keys Escape '`'
    see "7 ($W): \` back from the warning" "t=$(ms "$(awk -v a="$wts" -v d="$wdur" 'BEGIN { printf "%d", int((a + d / 2) / 1000) * 1000 }')") /"
    keys '`' '`' '`' '`' '`' '`'
    see "7 ($W): an empty history says so" "there was none"

    # ---- 6. sorting Resources ---------------------------------------------------
    keys 2
    see "6 ($W): Resources" "CONT"
    keys s s Home
    see "6 ($W): sorted by NAME, the arrow shown" "NAME$up"
    first=$(q "SELECT name FROM resources ORDER BY name, id LIMIT 1")
    row=$(screen | sed -n 3p)
    case $row in *"$first"*) ok ;; *) bad "6 ($W): by name, '$first' first" "$(screen)" ;; esac
    keys S Home
    see "6 ($W): reversed, the arrow turns" "NAME$down"
    last=$(q "SELECT name FROM resources ORDER BY name DESC, id LIMIT 1")
    row=$(screen | sed -n 3p)
    case $row in *"$last"*) ok ;; *) bad "6 ($W): reversed, '$last' first" "$(screen)" ;; esac
    keys S s
    see "6 ($W): s goes on to the next column" "HOLDER$up"

    # ---- 3. hide the ended tasks -----------------------------------------------
    keys 1
    goto 1s
    see "3 ($W): at 1s" "t=1.000000s /"
    ended=$(q "SELECT COUNT(*) FROM tasks WHERE end_ts IS NOT NULL AND end_ts <= 1000000000")
    early=$(q "SELECT id FROM tasks WHERE end_ts IS NOT NULL AND end_ts <= 1000000000 ORDER BY id LIMIT 1")
    [ "$ended" -gt 0 ] || bad "3 ($W): the showcase has tasks ended by 1s"
    see "3 ($W): an ended task listed" "$early serve_one   done"
    keys H
    see "3 ($W): H says how many it hides" "$ended ended hidden"
    gone "3 ($W): no ended task listed" "$early serve_one   done"
    if screen | sed -n '3,$p' | grep -Eq '^.{2} +[0-9]+ .* done( |$)'; then bad "3 ($W): no 'done' row while hidden" "$(screen)"; else ok; fi
    keys 4 C   # unfolded (5 folded it): the ended serve_one tasks would be listed
    see "3 ($W): the timeline header says so" "TASK  ended hidden"
    if screen | grep -q "#$early serve_one"; then bad "3 ($W): #$early hidden in the timeline" "$(screen)"; else ok; fi
    see "3 ($W): a live task stays" "#1 main"
    keys H
    see "3 ($W): H again shows them" "#$early serve_one"
    keys 1
    see "3 ($W): ... in Tasks too" "$early serve_one   done"

    # ---- 2. search, and the filter in the Timeline and the Await tree ---------------
    keys g
    keys /
    see "2 ($W): / asks what to find" "find:"
    type_text crawler
    keys Enter
    first=$(q "SELECT id || ' ' || name FROM tasks WHERE name LIKE '%crawler%' ORDER BY id LIMIT 1")
    second=$(q "SELECT id || ' ' || name FROM tasks WHERE name LIKE '%crawler%' ORDER BY id LIMIT 1 OFFSET 1")
    lastc=$(q "SELECT id || ' ' || name FROM tasks WHERE name LIKE '%crawler%' ORDER BY id DESC LIMIT 1")
    see "2 ($W): the first match selected" "#$first:"
    keys n
    see "2 ($W): n: the next" "#$second:"
    keys N N
    see "2 ($W): N before the first wraps to the last" "#$lastc:"
    see "2 ($W): ... and says so" "search wrapped"
    keys F3
    see "2 ($W): F3 searches too" "find:"
    type_text zzz-nothing
    keys Enter
    see "2 ($W): no match said" "no task matches 'zzz-nothing'"
    keys 4 /
    type_text "$(echo "$second" | cut -d' ' -f2-)"
    keys Enter
    see "2 ($W): found in the timeline" "#$second: "
    keys '\'
    see "2 ($W): \\ filters the timeline" "filter:"
    type_text "$(echo "$second" | cut -d' ' -f2-)"
    keys Enter
    see "2 ($W): the match stays" "#$second"
    gone "2 ($W): the others go" "#$first"
    see "2 ($W): its parent stays, for the tree" "#1 main"
    keys Escape
    see "2 ($W): Esc clears the filter" "#$first"
    keys 5
    goto "$wmid"
    # indexer: a root of the tree that no other task's state names.
    idx=$(q "SELECT id FROM tasks WHERE name = 'indexer'")
    see "2 ($W): the tree at the slow step" "#$idx indexer"
    keys /
    type_text indexer
    keys Enter Enter
    see "2 ($W): found in the tree: Enter opens it" "Task #$idx"
    keys Escape F4
    see "2 ($W): F4 filters the tree" "filter:"
    type_text indexer
    keys Enter
    see "2 ($W): the match stays in the tree" "#$idx indexer"
    gone "2 ($W): the others leave the tree" "#1 main"
    keys Escape
    see "2 ($W): Esc: the tree whole again" "#1 main"

    # ---- 4. the mouse and the F-keys ---------------------------------------------
    check "4 ($W): the terminal reports the mouse" "$(tm display -p -t t '#{mouse_sgr_flag}')" 1
    click "$(tab_col '4 Timeline')" 1
    see "4 ($W): a click on the Timeline tab" "z Z zoom"
    click "$(tab_col '1 Tasks')" 1
    see "4 ($W): a click on the Tasks tab" "STATE AT CURSOR"
    keys g
    second_id=$(echo "$second" | cut -d' ' -f1)
    row=$(screen | grep -n "^.. *$second_id " | head -1 | cut -d: -f1)
    click 12 "$row"
    see "4 ($W): a click selects the row" "#$second:"
    click 12 "$row"
    see "4 ($W): a click on the selected row opens it" "Task #$second_id"
    keys Escape Home
    see "4 ($W): back, the first row" "#1 main:"
    wheel_down 12 5
    third=$(q "SELECT id || ' ' || name FROM tasks ORDER BY id LIMIT 1 OFFSET 3")
    see "4 ($W): the wheel moves three rows" "#$third:"
    keys 4 f
    see "4 ($W): the timeline, fit" "  fit"
    click $((x0 + 21)) 10
    near "4 ($W): a click in the cells: the cursor at that cell" "$(cursor_ns)" \
        "$(awk -v d="$dur" -v n="$ncells" 'BEGIN { printf "%.0f", int(d * 20.5 / n / 1000) * 1000 }')"
    drag $((x0 + 11)) $((x0 + 41)) 10
    t1=$(awk -v d="$dur" -v n="$ncells" 'BEGIN { printf "%.0f", int(int(d * 10 / n) / 1000) * 1000 }')
    t2=$(awk -v d="$dur" -v n="$ncells" 'BEGIN { printf "%.0f", int(int(d * 41 / n) / 1000) * 1000 }')
    see "4 ($W): a drag tells where time went in the range" "Where time went: "
    win=$(screen | grep -o 'Where time went: [0-9.]*[a-z]*s\.\.[0-9.]*[a-z]*s' | sed 's/^Where time went: //')
    near "4 ($W): ... from where the drag began" "$(echo "${win%%..*}" | to_ns)" "$t1"
    near "4 ($W): ... to where it ended" "$(echo "${win##*..}" | to_ns)" "$t2"
    keys Escape
    see "4 ($W): Esc: the Timeline again" "z Z zoom"
    if screen | grep -q "  fit\$"; then bad "4 ($W): ... zoomed to the range (not fit)" "$(screen)"; else ok; fi
    win=$(screen | grep -o '[0-9.]*[a-z]*s\.\.[0-9.]*[a-z]*s' | tail -1)
    near "4 ($W): the window starts where the drag did" "$(echo "${win%%..*}" | to_ns)" "$t1"
    near "4 ($W): ... and ends where it did" "$(echo "${win##*..}" | to_ns)" "$t2"
    keys F1
    see "4 ($W): F1 help" "keys (any key closes)"
    keys Escape
    gone "4 ($W): Esc still closes it (keys intact beside the mouse)" "keys (any key closes)"
    keys F5
    see "4 ($W): F5 the await tree" "Who awaits whom"
    keys F10
    see "4 ($W): F10 quits" "tui exited 0"
    check "4 ($W): the mouse given back at exit" "$(tm display -p -t t '#{mouse_sgr_flag}')" 0
    start "$W" "$H" "$db" NO_MOUSE=1
    check "4 ($W): NO_MOUSE: the mouse left alone" "$(tm display -p -t t '#{mouse_sgr_flag}')" 0
    keys q
    see "4 ($W): quits" "tui exited 0"
    tm kill-session -t t
    tm_new -d -s t -x "$W" -y "$H" "env $coscope tui --no-mouse $db; echo \"tui exited \$?\"; sleep 600"
    see "4 ($W): --no-mouse opens" "STATE AT CURSOR"
    check "4 ($W): --no-mouse: the mouse left alone" "$(tm display -p -t t '#{mouse_sgr_flag}')" 0

    # ---- 1. e opens the editor at the line, y copies it ----------------------------
    rm -f "$tmp/ed.args" "$tmp/visual.args"
    start "$W" "$H" "$db" EDITOR="$tmp/ed.sh"
    site=$(spawn_at 1)
    keys e
    see "1 ($W): back from the editor, in the same view" "edited $site"
    see "1 ($W): ... the same screen" "STATE AT CURSOR"
    check "1 ($W): the editor got +LINE FILE" "$(cat "$tmp/ed.args" 2>/dev/null | tr '\n' ' ')" "+${site##*:} ${site%:*} "
    tm set-option -g set-clipboard on
    keys y
    see "1 ($W): y says what it copied" "copied $site"
    check "1 ($W): the clipboard (OSC 52, tmux's buffer) has it" "$(tm show-buffer 2>/dev/null)" "$site"
    keys 3
    wat=$(q "SELECT l.file || ':' || l.line FROM warnings w JOIN locations l ON l.id = w.loc ORDER BY w.ts LIMIT 1")
    keys e
    see "1 ($W): e on a warning: its line" "edited $wat"
    check "1 ($W): ... given to the editor" "$(tr '\n' ' ' < "$tmp/ed.args")" "+${wat##*:} ${wat%:*} "
    keys 1 Enter
    see "1 ($W): a task's detail" "Task #1"
    rm -f "$tmp/ed.args"
    keys e
    see "1 ($W): e in the detail" "edited "
    [ -s "$tmp/ed.args" ] && ok || bad "1 ($W): the editor ran from the detail"
    keys Escape 5
    goto "$wmid"
    see "1 ($W): the tree" "#$warned $warned_name"
    keys /
    type_text "$warned_name"
    keys Enter
    rm -f "$tmp/ed.args"
    keys e
    see "1 ($W): e in the tree" "edited samples/showcase.c:"
    case $(head -1 "$tmp/ed.args" 2>/dev/null) in +[1-9]*) ok ;; *) bad "1 ($W): the tree's line given as +LINE" ;; esac
    keys q
    see "1 ($W): quits" "tui exited 0"
    start "$W" "$H" "$db" EDITOR="$tmp/ed.sh" VISUAL="$tmp/visual.sh"
    keys e
    see "1 ($W): VISUAL before EDITOR" "edited $site"
    [ -s "$tmp/visual.args" ] && ok || bad "1 ($W): \$VISUAL ran"
done

# ---- 1. the trace's paths are untrusted -------------------------------------------
for size in "120 40" "80 24"; do
    set -- $size
    W=$1 H=$2
    cp "$tmp/showcase.db" "$tmp/nofile.db"
    sqlite3 "$tmp/nofile.db" "UPDATE locations SET file = 'no/such/dir/gone.c'"
    rm -f "$tmp/ed.args"
    start "$W" "$H" "$tmp/nofile.db" EDITOR="$tmp/ed.sh"
    keys e
    see "1 ($W): a file that is not there: one clear message" "no file no/such/dir/gone.c"
    sleep 0.3
    [ -e "$tmp/ed.args" ] && bad "1 ($W): no editor for a missing file" || ok
    cp "$tmp/showcase.db" "$tmp/dash.db"
    : > "$tmp/-x.c"
    sqlite3 "$tmp/dash.db" "UPDATE locations SET file = '-x.c'"
    start "$W" "$H" "$tmp/dash.db" EDITOR="$tmp/ed.sh"
    (cd "$tmp" && true)
    keys e
    see "1 ($W): a path starting with '-' refused" "starts with '-'"
    [ -e "$tmp/ed.args" ] && bad "1 ($W): no editor for '-x.c'" || ok
    # A real file whose name a shell would run: handed over as it is.
    evil="$tmp/q\$(touch pwned);x.c"
    : > "$evil"
    cp "$tmp/showcase.db" "$tmp/evil.db"
    sqlite3 "$tmp/evil.db" "UPDATE locations SET file = '$evil'"
    start "$W" "$H" "$tmp/evil.db" EDITOR="$tmp/ed.sh"
    keys e
    see "1 ($W): the odd name opened" "edited $tmp/q"
    check "1 ($W): the path reached the editor as one argument" "$(sed -n 2p "$tmp/ed.args" 2>/dev/null)" "$evil"
    [ -e pwned ] || [ -e "$tmp/pwned" ] && bad "1 ($W): no shell ran the path" || ok
done

# ---- 8. ? lists the new keys ---------------------------------------------------
for size in "120 40" "80 24"; do
    set -- $size
    start "$1" "$2" "$db"
    keys '?'
    see "8 ($1): help" "keys (any key closes)"
    for k in "/ F3" "n N" "\\ F4" "H " "e " "y " "\` " "? F1" "5 F5" "q F10"; do
        if screen | grep -qF -- "$k"; then ok; else bad "8 ($1): ? lists '$k'" "$(screen)"; fi
    done
    keys Escape 2 '?'
    see "8 ($1): Resources' help: s sorts" "sort by the next column"
done

echo "tui3_keys: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
