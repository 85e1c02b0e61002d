#!/bin/sh
# smalgo-entrypoint: the image's ENTRYPOINT. Starts smalgo the way SageMaker runs
# a training or hosting container, including multi-host training over MPI.
#
# - `IMAGE serve`, `IMAGE inspect ...` and any command other than train: exec
#   smalgo with the same arguments (smalgo becomes PID 1 and gets SIGTERM).
# - `IMAGE train` or `IMAGE` with no argument, on one host (resourceconfig.json
#   absent or listing one host): exec smalgo train.
# - train on several hosts: every host starts sshd with the key baked into the
#   image. The leader (hosts[0]) waits until it can ssh to every worker (bounded
#   by SMALGO_HOST_WAIT_SECONDS, then a ClientError), runs `mpirun` with one rank
#   per host over network_interface_name, watches the workers while it runs (a
#   host that stops answering for SMALGO_HOST_LOST_CHECKS checks made every
#   SMALGO_HOST_CHECK_SECONDS ends the job, naming the host), and finally tells
#   every worker the job's exit status by writing /tmp/smalgo-done on it over
#   ssh. Workers run nothing themselves (mpirun's orted starts their rank through
#   sshd); each waits for that file and exits with the status it holds (0 when
#   the job succeeded), or exits non-zero if the leader stops answering.
#   Exiting with the job's status on every host matters: docker compose
#   --abort-on-container-exit reports whichever container exits first.
# - Every host writes /opt/ml/output/failure when the job fails there, unless
#   smalgo already wrote one. SIGTERM (docker stop, StopTrainingJob) on the
#   leader stops mpirun and then every worker; on a worker it stops that worker
#   (and the leader then sees a lost host).
#
# POSIX sh (dash) and awk only: the runtime image has no Python and no jq.
set -u

SMALGO=${SMALGO_BIN:-/usr/local/bin/smalgo}
ML=${SMALGO_ML_ROOT:-/opt/ml}
RESOURCE_CONFIG=$ML/input/config/resourceconfig.json
FAILURE=$ML/output/failure
DONE_FILE=/tmp/smalgo-done
HOST_WAIT=${SMALGO_HOST_WAIT_SECONDS:-300}
CHECK_EVERY=${SMALGO_HOST_CHECK_SECONDS:-5}
LOST_CHECKS=${SMALGO_HOST_LOST_CHECKS:-2}
SSH="ssh -o ConnectTimeout=5 -o BatchMode=yes"

log() { echo "smalgo-entrypoint: $*" >&2; }

# write_failure TEXT: write output/failure unless something already wrote it.
write_failure() {
    mkdir -p "$ML/output"
    if [ ! -s "$FAILURE" ]; then
        printf '%s\n' "$1" >"$FAILURE"
    fi
    log "$1"
}

# Print "current_host X", "network_interface_name Y" and one "host H" per entry
# of the top-level hosts array, in file order. A small JSON scanner: keys are
# taken only at depth 1, so instance_groups[*].hosts is not confused with hosts.
parse_resource_config() {
    awk '
    { s = s $0 "\n" }
    END {
        n = length(s); depth = 0; key = ""; inhosts = 0; i = 1
        while (i <= n) {
            c = substr(s, i, 1)
            if (c == "\"") {
                j = i + 1; str = ""
                while (j <= n) {
                    d = substr(s, j, 1)
                    if (d == "\\") { str = str substr(s, j + 1, 1); j += 2; continue }
                    if (d == "\"") break
                    str = str d; j++
                }
                i = j + 1
                k = i
                while (k <= n && substr(s, k, 1) ~ /[ \t\r\n]/) k++
                if (substr(s, k, 1) == ":") {
                    if (depth == 1) key = str
                    i = k + 1
                    continue
                }
                if (depth == 1 && (key == "current_host" || key == "network_interface_name"))
                    print key, str
                else if (depth == 2 && inhosts)
                    print "host", str
                continue
            }
            if (c == "{" || c == "[") {
                depth++
                if (c == "[" && depth == 2 && key == "hosts") inhosts = 1
            } else if (c == "}" || c == "]") {
                if (depth == 2) inhosts = 0
                depth--
            }
            i++
        }
    }' "$1"
}

# A host name we pass to ssh and mpirun: letters, digits, dot, dash, underscore.
valid_name() {
    case "$1" in
    "" | -* | *[!A-Za-z0-9._-]*) return 1 ;;
    *) return 0 ;;
    esac
}

reachable() { timeout 15 $SSH "$1" true >/dev/null 2>&1; }

start_sshd() {
    mkdir -p /run/sshd
    /usr/sbin/sshd -D -E /tmp/sshd.log &
    SSHD_PID=$!
}

stop_sshd() {
    if [ -n "${SSHD_PID:-}" ]; then
        kill "$SSHD_PID" 2>/dev/null
        wait "$SSHD_PID" 2>/dev/null
        SSHD_PID=
    fi
}

# wait_for PID: wait until the process has ended even if traps interrupt
# `wait`; sets RC to its exit status.
wait_for() {
    RC=0
    while :; do
        wait "$1"
        RC=$?
        kill -0 "$1" 2>/dev/null || break
    done
}

# tell_workers STATUS HOSTS...: write the job's status (first line) and this
# host's failure text, if any (the rest), into DONE_FILE on each worker.
tell_workers() {
    status=$1
    shift
    msg=/tmp/smalgo-done-message
    {
        echo "$status"
        [ "$status" = 0 ] || [ ! -s "$FAILURE" ] || head -c 1024 "$FAILURE"
    } >"$msg"
    for w in "$@"; do
        tries=0
        until timeout 15 $SSH "$w" "cat >$DONE_FILE.tmp && mv $DONE_FILE.tmp $DONE_FILE" \
            <"$msg" >/dev/null 2>&1; do
            tries=$((tries + 1))
            if [ "$tries" -ge 3 ]; then
                log "could not tell $w that the job ended"
                break
            fi
            sleep 1
        done
    done
}

# watchdog LOSTFILE MPIRUN_PID WORKERS...: runs in the background while mpirun
# runs; when a worker fails LOST_CHECKS checks in a row, write its name to
# LOSTFILE and stop mpirun.
watchdog() {
    lostfile=$1
    mpid=$2
    shift 2
    trap - TERM INT
    trap 'exit 0' TERM
    misses=""
    while kill -0 "$mpid" 2>/dev/null; do
        sleep "$CHECK_EVERY"
        newmisses=""
        for w in "$@"; do
            if ! reachable "$w"; then
                count=$(printf '%s\n' $misses | grep -c "^$w\$")
                count=$((count + 1))
                if [ "$count" -ge "$LOST_CHECKS" ]; then
                    echo "$w" >>"$lostfile"
                fi
                i=0
                while [ "$i" -lt "$count" ]; do
                    newmisses="$newmisses $w"
                    i=$((i + 1))
                done
            fi
        done
        misses=$newmisses
        if [ -s "$lostfile" ]; then
            log "lost host(s): $(tr '\n' ' ' <"$lostfile"); stopping mpirun"
            kill -TERM "$mpid" 2>/dev/null
            sleep 10
            kill -KILL "$mpid" 2>/dev/null
            exit 0
        fi
    done
}

# The environment every rank needs, forwarded by mpirun (orted starts remote
# ranks through sshd, which does not pass the container's environment on).
mpirun_env_args() {
    env | sed -n 's/^\(\(SMALGO\|AWS\|TRAINING_JOB\|SM\|OPENBLAS\|OMP\|LD_LIBRARY\)_[A-Za-z0-9_]*\)=.*/\1/p' |
        sort -u | while read -r name; do printf -- '-x %s ' "$name"; done
}

leader() {
    workers=$(echo "$HOSTS" | sed 1d)
    stop_requested=0
    MPIRUN_PID=
    trap 'stop_requested=1; [ -n "$MPIRUN_PID" ] && kill -TERM "$MPIRUN_PID" 2>/dev/null' TERM INT

    # 1. Wait for every worker's sshd, bounded.
    deadline=$(($(date +%s) + HOST_WAIT))
    pending=$workers
    while [ -n "$pending" ]; do
        still=""
        for w in $pending; do
            reachable "$w" || still="$still $w"
        done
        pending=$(echo $still)
        [ -z "$pending" ] && break
        if [ "$stop_requested" = 1 ]; then
            tell_workers 143 $workers
            stop_sshd
            exit 143
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            write_failure "ClientError: host(s) $pending did not answer over SSH within ${HOST_WAIT} s \
(SMALGO_HOST_WAIT_SECONDS); every host of the job must run this image on one network"
            for w in $workers; do
                case " $pending " in *" $w "*) ;; *) tell_workers 1 "$w" ;; esac
            done
            stop_sshd
            exit 1
        fi
        sleep 1
    done
    log "all $N_HOSTS hosts answer; starting mpirun"

    # 2. One rank per host; rank 0 is this host.
    hostlist=$(echo "$HOSTS" | sed 's/$/:1/' | paste -sd, -)
    lostfile=/tmp/smalgo-lost
    rm -f "$lostfile"
    # shellcheck disable=SC2046 # the -x list is split on purpose
    mpirun --allow-run-as-root -np "$N_HOSTS" --host "$hostlist" --bind-to none \
        --mca plm_rsh_no_tree_spawn 1 --mca orte_abort_on_non_zero_status 1 \
        --mca pml ob1 --mca btl tcp,self \
        --mca btl_tcp_if_include "$IFACE" --mca oob_tcp_if_include "$IFACE" \
        -x PATH $(mpirun_env_args) \
        "$SMALGO" "$@" &
    MPIRUN_PID=$!
    if [ "$stop_requested" = 1 ]; then kill -TERM "$MPIRUN_PID" 2>/dev/null; fi
    # shellcheck disable=SC2086
    watchdog "$lostfile" "$MPIRUN_PID" $workers &
    WATCHDOG_PID=$!
    wait_for "$MPIRUN_PID"
    rc=$RC
    kill "$WATCHDOG_PID" 2>/dev/null
    wait "$WATCHDOG_PID" 2>/dev/null

    # 3. Name what went wrong.
    lost=""
    [ -s "$lostfile" ] && lost=$(sort -u "$lostfile" | tr '\n' ' ')
    if [ "$stop_requested" = 1 ]; then
        log "stopped (SIGTERM); mpirun exited with status $rc"
        rc=143
    elif [ "$rc" -ne 0 ]; then
        if [ -z "$lost" ]; then
            for w in $workers; do reachable "$w" || lost="$lost$w "; done
        fi
        if [ -n "$lost" ]; then
            # Overrides what rank 0 wrote: it only saw its peers vanish.
            rm -f "$FAILURE"
            write_failure "AlgorithmError: lost host(s) ${lost% } during training (no answer \
over SSH); the job cannot finish without every host (mpirun status $rc)"
        else
            why=""
            for w in $workers; do
                text=$(timeout 15 $SSH "$w" "head -c 900 $FAILURE" 2>/dev/null) || continue
                if [ -n "$text" ]; then
                    why="host $w failed: $text"
                    break
                fi
            done
            [ -n "$why" ] || why="AlgorithmError: training failed (mpirun exited with status $rc; see the log)"
            write_failure "$why"
        fi
    fi

    # 4. Release the workers with the job's status, then leave.
    remaining=""
    for w in $workers; do
        case " $lost " in *" $w "*) ;; *) remaining="$remaining $w" ;; esac
    done
    # shellcheck disable=SC2086
    tell_workers "$rc" $remaining
    stop_sshd
    exit "$rc"
}

worker() {
    leader_host=$(echo "$HOSTS" | head -n1)
    rm -f "$DONE_FILE" "$DONE_FILE.tmp"
    stop_requested=0
    trap 'stop_requested=1' TERM INT
    seen=0
    misses=0
    started=$(date +%s)
    last_check=0
    log "worker $CURRENT_HOST: waiting for the leader $leader_host"
    while :; do
        if [ -f "$DONE_FILE" ]; then
            status=$(head -n1 "$DONE_FILE")
            case "$status" in "" | *[!0-9]*) status=1 ;; esac
            if [ "$status" -ne 0 ] && [ "$status" -ne 143 ]; then
                # The job's cause, as the leader wrote it, goes first: what this
                # host's rank wrote (if anything) is often only the teardown.
                reason=$(sed 1d "$DONE_FILE")
                [ -n "$reason" ] || reason="AlgorithmError: the job failed (status $status \
on the leader $leader_host)"
                own=""
                [ -s "$FAILURE" ] && own=$(head -c 600 "$FAILURE")
                rm -f "$FAILURE"
                case "$reason" in
                *"host $CURRENT_HOST failed: "*) write_failure "${own:-$reason}" ;;
                *) write_failure "$reason${own:+ (on $CURRENT_HOST: $own)}" ;;
                esac
            fi
            log "the leader reports the job ended with status $status"
            stop_sshd
            exit "$status"
        fi
        if [ "$stop_requested" = 1 ]; then
            log "stopped (SIGTERM)"
            stop_sshd
            exit 143
        fi
        now=$(date +%s)
        if [ $((now - last_check)) -ge "$CHECK_EVERY" ]; then
            last_check=$now
            if reachable "$leader_host"; then
                seen=1
                misses=0
            elif [ "$seen" = 1 ]; then
                misses=$((misses + 1))
                # The leader may have just finished: its done file can land late.
                if [ "$misses" -gt "$LOST_CHECKS" ] && [ ! -f "$DONE_FILE" ]; then
                    write_failure "AlgorithmError: lost the leader host $leader_host (no answer \
over SSH)"
                    stop_sshd
                    exit 1
                fi
            elif [ $((now - started)) -ge $((HOST_WAIT + 60)) ]; then
                write_failure "ClientError: the leader host $leader_host did not answer over SSH \
within $((HOST_WAIT + 60)) s"
                stop_sshd
                exit 1
            fi
        fi
        sleep 1 &
        wait $! 2>/dev/null
    done
}

# ---------------------------------------------------------------------------
if [ $# -gt 0 ] && [ "$1" != train ]; then
    exec "$SMALGO" "$@"
fi
[ $# -gt 0 ] || set -- train

if [ ! -f "$RESOURCE_CONFIG" ]; then
    exec "$SMALGO" "$@"
fi
parsed=$(parse_resource_config "$RESOURCE_CONFIG")
HOSTS=$(echo "$parsed" | sed -n 's/^host //p')
CURRENT_HOST=$(echo "$parsed" | sed -n 's/^current_host //p' | head -n1)
IFACE=$(echo "$parsed" | sed -n 's/^network_interface_name //p' | head -n1)
IFACE=${IFACE:-eth0}
N_HOSTS=$(echo "$HOSTS" | grep -c .)
if [ "$N_HOSTS" -le 1 ]; then
    exec "$SMALGO" "$@"
fi

for h in $HOSTS "$CURRENT_HOST" "$IFACE"; do
    if ! valid_name "$h"; then
        write_failure "ClientError: resourceconfig.json: unusable host or interface name '$h'"
        exit 1
    fi
done
case "
$HOSTS
" in
*"
$CURRENT_HOST
"*) ;;
*)
    write_failure "ClientError: resourceconfig.json: current_host '$CURRENT_HOST' is not in hosts"
    exit 1
    ;;
esac

# SDK v3 local mode writes "ethwe", which no docker bridge has: fall back to the
# interface of the default route rather than fail inside mpirun.
if [ ! -e "/sys/class/net/$IFACE" ]; then
    fallback=$(awk '$2 == "00000000" {print $1; exit}' /proc/net/route 2>/dev/null)
    log "network_interface_name $IFACE does not exist here; using ${fallback:-eth0}"
    IFACE=${fallback:-eth0}
fi

start_sshd
if [ "$CURRENT_HOST" = "$(echo "$HOSTS" | head -n1)" ]; then
    leader "$@"
else
    worker
fi
