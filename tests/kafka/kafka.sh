#!/usr/bin/env bash
# Real Apache Kafka (KRaft) brokers on loopback for logship integration tests.
#
#   kafka.sh fetch                                  resolve broker jars into the cache
#   kafka.sh start [--brokers N] [--dir D]          start an N-broker cluster (default 1)
#   kafka.sh stop  [--dir D] [--rm]                 stop every broker of D (and delete D)
#   kafka.sh status [--dir D]                       broker processes + cluster metadata
#   kafka.sh kill-broker  [--dir D] --index I       SIGKILL broker I
#   kafka.sh stop-broker  [--dir D] --index I       graceful stop of broker I
#   kafka.sh start-broker [--dir D] --index I       restart broker I (same ports, same data)
#   kafka.sh tool CLASS|ALIAS [ARGS...]             run a Kafka CLI main class from the jars
#
# `start` prints KAFKA_BROKERS=... and KAFKA_DIR=... on stdout (all progress goes to
# stderr) and writes the same lines to D/env.  Commands that take --dir fall back
# to $KAFKA_DIR.  Broker indices are 0-based, in KAFKA_BROKERS order, and equal
# the brokers' node.id.  See README.md for details.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POM=$HERE/pom.xml
PROBE=$HERE/kafka_probe.py

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\([^<]*\)</kafka.version>.*:\1:p' "$POM" | head -n1)
[[ -n $KAFKA_VERSION ]] || { echo "kafka.sh: no <kafka.version> in $POM" >&2; exit 1; }
CACHE_ROOT=${LOGSHIP_CACHE:-$HOME/.cache/logship}/kafka/$KAFKA_VERSION
JARS=$CACHE_ROOT/jars
STAMP=$CACHE_ROOT/jars.complete

if [[ -n ${KAFKA_JAVA:-} ]]; then JAVA=$KAFKA_JAVA
elif [[ -n ${JAVA_HOME:-} ]]; then JAVA=$JAVA_HOME/bin/java
else JAVA=java; fi
PYTHON=${PYTHON:-python3}

START_TIMEOUT=${KAFKA_START_TIMEOUT:-60}   # seconds until the cluster must be usable
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}     # seconds of SIGTERM grace before SIGKILL
QUORUM_LOST_GRACE=8                        # ... once a majority of the nodes are down
READY_TOPIC=_logship_ready                 # auto-created by the readiness probe

# Small, polite JVMs: the machine has 2 shared cores.  Override with the env vars.
read -r -a BROKER_HEAP <<<"${KAFKA_HEAP_OPTS:--Xms128m -Xmx384m}"
BROKER_JVM=(-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:ParallelGCThreads=1
    -XX:ConcGCThreads=1 -XX:CICompilerCount=2 -XX:MaxDirectMemorySize=256m
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$HERE/log4j-broker.properties")
TOOL_JVM=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$HERE/log4j-tools.properties")
read -r -a EXTRA_JVM <<<"${KAFKA_JVM_OPTS:-}"

# Brokers launched by this invocation that must not outlive a failed start.
CLEANUP_DIR="" CLEANUP_IDX=()
on_exit() {
    local rc=$?
    if ((rc != 0)) && [[ -n $CLEANUP_DIR ]] && ((${#CLEANUP_IDX[@]})); then
        log "start failed; killing broker(s) ${CLEANUP_IDX[*]} (logs kept in $CLEANUP_DIR)"
        CLEANUP_DIR_=$CLEANUP_DIR CLEANUP_DIR=""
        signal_and_wait "$CLEANUP_DIR_" KILL "${CLEANUP_IDX[@]}" || true
    fi
    exit "$rc"
}
trap on_exit EXIT

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
    exit "${1:-2}"
}

# ---------------------------------------------------------------------------
# fetch

want_stamp() { printf '%s %s\n' "$KAFKA_VERSION" "$(sha256sum "$POM" | cut -d' ' -f1)"; }

jars_cached() {
    [[ -f $STAMP && -d $JARS && "$(cat "$STAMP")" == "$(want_stamp)" ]]
}

cmd_fetch() {
    [[ $# -eq 0 ]] || die "fetch takes no arguments"
    if jars_cached; then
        log "kafka $KAFKA_VERSION jars cached in $JARS"
        return 0
    fi
    mkdir -p "$CACHE_ROOT"
    # Serialise concurrent fetches into the same cache.  The subshell keeps the
    # lock fd away from brokers started later by this process.
    (
        flock 9
        if jars_cached; then exit 0; fi
        command -v mvn >/dev/null || die "mvn not found (needs Maven 3 and Java 17)"
        local tmp mvnlog=$CACHE_ROOT/mvn.log t0=$SECONDS
        tmp=$(mktemp -d "$CACHE_ROOT/jars.tmp.XXXXXX")
        local -a extra mvn
        read -r -a extra <<<"${KAFKA_MVN_ARGS:-}"
        mvn=(mvn -B -q -Dstyle.color=never -f "$POM" "${extra[@]}"
            dependency:copy-dependencies "-DoutputDirectory=$tmp")
        log "resolving kafka $KAFKA_VERSION jars with Maven into $JARS ..."
        # Offline first: works without network once ~/.m2 holds the artifacts.
        if ! "${mvn[@]}" -o >"$mvnlog" 2>&1; then
            rm -rf "$tmp" && mkdir -p "$tmp"
            if ! "${mvn[@]}" >"$mvnlog" 2>&1; then
                cat "$mvnlog" >&2
                rm -rf "$tmp"
                die "mvn dependency:copy-dependencies failed (log: $mvnlog)"
            fi
        fi
        [[ -f $tmp/kafka_2.13-$KAFKA_VERSION.jar ]] \
            || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"; }
        rm -rf "$JARS"
        mv "$tmp" "$JARS"
        want_stamp >"$STAMP"
        log "fetched $(find "$JARS" -name '*.jar' | wc -l) jars in $((SECONDS - t0))s"
    ) 9>"$CACHE_ROOT/.lock"
}

# ---------------------------------------------------------------------------
# helpers

run_java_tool() { # CLASS ARGS...
    "$JAVA" "${TOOL_JVM[@]}" "${EXTRA_JVM[@]}" -cp "$JARS/*" "$@"
}

resolve_dir() { # DIR-or-empty -> absolute cluster dir (must exist)
    local d=${1:-${KAFKA_DIR:-}}
    [[ -n $d ]] || die "no cluster dir: pass --dir D or set KAFKA_DIR"
    [[ -f $d/cluster.conf ]] || die "$d is not a kafka.sh cluster dir (no cluster.conf)"
    (cd "$d" && pwd)
}

load_conf() { # DIR -> sets N, CLUSTER_ID, PORTS[], CPORTS[]
    local dir=$1 ports cports
    N=$(sed -n 's/^num_brokers=//p' "$dir/cluster.conf")
    CLUSTER_ID=$(sed -n 's/^cluster_id=//p' "$dir/cluster.conf")
    ports=$(sed -n 's/^ports=//p' "$dir/cluster.conf")
    cports=$(sed -n 's/^controller_ports=//p' "$dir/cluster.conf")
    read -r -a PORTS <<<"$ports"
    read -r -a CPORTS <<<"$cports"
    [[ $N =~ ^[0-9]+$ && ${#PORTS[@]} -eq $N && ${#CPORTS[@]} -eq $N ]] \
        || die "corrupt $dir/cluster.conf"
}

bootstrap() { # -> 127.0.0.1:p0,127.0.0.1:p1,...
    local i out=""
    for ((i = 0; i < N; i++)); do out+="${out:+,}127.0.0.1:${PORTS[i]}"; done
    printf '%s' "$out"
}

broker_pid() { # DIR I -> pid on stdout if broker I of DIR is running
    local bd=$1/broker-$2 pid cmd
    [[ -f $bd/pid ]] || return 1
    pid=$(<"$bd/pid")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    # Guard against pid reuse and zombies: the command line must be ours.
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    [[ $cmd == *kafka.Kafka*"$bd/server.properties"* ]] || return 1
    printf '%s' "$pid"
}

check_index() { # I
    if ! [[ $1 =~ ^[0-9]+$ ]] || ((10#$1 >= N)); then
        die "broker index '$1' out of range 0..$((N - 1))"
    fi
}

write_props() { # DIR I
    local dir=$1 i=$2 bd=$1/broker-$2 voters="" j rf minisr txisr
    rf=$((N < 3 ? N : 3))
    minisr=$((N >= 3 ? 2 : 1))
    txisr=$((rf >= 2 ? 2 : 1))
    for ((j = 0; j < N; j++)); do voters+="${voters:+,}$j@127.0.0.1:${CPORTS[j]}"; done
    mkdir -p "$bd/data"
    cat >"$bd/server.properties" <<EOF
# Generated by tests/kafka/kafka.sh (kafka $KAFKA_VERSION) for a $N-broker test cluster.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${PORTS[i]},CONTROLLER://127.0.0.1:${CPORTS[i]}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORTS[i]}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$bd/data

auto.create.topics.enable=true
delete.topic.enable=true
num.partitions=3
default.replication.factor=$rf
min.insync.replicas=$minisr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$txisr
transaction.state.log.num.partitions=3
group.initial.rebalance.delay.ms=0

# Keep the footprint small on a shared 2-core machine.
num.network.threads=2
num.io.threads=2
background.threads=2
num.replica.fetchers=1
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216

# Fence a SIGKILLed broker after 6 s instead of 9 s (faster fail-over in tests,
# and a killed broker can re-register sooner).
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
EOF
    # Per-run overrides, e.g. KAFKA_SERVER_PROPS="message.max.bytes=2000000 log.retention.ms=-1"
    if [[ -n ${KAFKA_SERVER_PROPS:-} ]]; then
        local -a kvs
        read -r -a kvs <<<"$KAFKA_SERVER_PROPS"
        printf '\n# From KAFKA_SERVER_PROPS (later keys win)\n' >>"$bd/server.properties"
        printf '%s\n' "${kvs[@]}" >>"$bd/server.properties"
    fi
}

launch_broker() { # DIR I  (background, detached from our stdio)
    local bd=$1/broker-$2
    {
        printf '\n===== kafka.sh: starting broker %s at %s =====\n' "$2" "$(date -Is)"
    } >>"$bd/server.log"
    (cd "$bd" && exec "$JAVA" "${BROKER_HEAP[@]}" "${BROKER_JVM[@]}" "${EXTRA_JVM[@]}" \
        -cp "$JARS/*" kafka.Kafka "$bd/server.properties") \
        </dev/null >>"$bd/server.log" 2>&1 &
    local pid=$! n=0
    disown "$pid" 2>/dev/null || true # no "Killed" job notices from bash
    echo "$pid" >"$bd/pid"
    # Until the forked subshell has exec'd java its cmdline is bash's, and
    # broker_pid would call it dead: wait for the exec (or the exit).
    while ! broker_pid "$1" "$2" >/dev/null; do
        kill -0 "$pid" 2>/dev/null || break
        ((++n < 200)) || break
        sleep 0.05
    done
}

broker_died() { # DIR I
    local bd=$1/broker-$2
    log "broker $2 exited during startup; last lines of $bd/server.log:"
    # Only the output of the latest launch: its first errors, then its tail.
    awk '/^===== kafka.sh: starting broker/ { n = 0 } { buf[n++] = $0 }
         END {
             for (i = 0; i < n && e < 10; i++)
                 if (buf[i] ~ /^(\[[^]]*\] (ERROR|FATAL)|Caused by:)/) { print buf[i]; e++ }
             if (e) print "[...]"
             for (i = (n > 25 ? n - 25 : 0); i < n; i++) print buf[i]
         }' "$bd/server.log" >&2 || true
    die "broker $2 failed to start"
}

# Poll until `probe wait ARGS` succeeds while all INDICES stay alive.
wait_ready() { # DIR "INDICES" PROBE-ARGS...
    local dir=$1 idx=$2 deadline=$((SECONDS + START_TIMEOUT)) i
    shift 2
    while :; do
        for i in $idx; do broker_pid "$dir" "$i" >/dev/null || broker_died "$dir" "$i"; done
        if "$PYTHON" "$PROBE" wait -b "$(bootstrap)" --timeout 0 "$@" 2>"$dir/probe.err"; then
            return 0
        fi
        if ((SECONDS >= deadline)); then
            cat "$dir/probe.err" >&2
            die "cluster in $dir not ready after ${START_TIMEOUT}s (logs: $dir/broker-*/server.log)"
        fi
        sleep 0.5
    done
}

signal_and_wait() { # DIR SIGNAL INDICES...  -> waits for exit, SIGKILL after STOP_TIMEOUT
    local dir=$1 sig=$2 i pid deadline=$((SECONDS + STOP_TIMEOUT)) alive running quorum_lost=0
    shift 2
    for i in "$@"; do
        if pid=$(broker_pid "$dir" "$i"); then kill "-$sig" "$pid" 2>/dev/null || true; fi
    done
    while :; do
        alive=()
        for i in "$@"; do broker_pid "$dir" "$i" >/dev/null && alive+=("$i"); done
        ((${#alive[@]} == 0)) && break
        # Once fewer than a majority of the controller voters run, a broker
        # still in controlled shutdown waits for an active controller that can
        # no longer exist (up to minutes).  Past Raft's own 5 s resign timeout
        # there is nothing left to wait for: cut the grace period short.
        if [[ $sig == TERM ]] && ((!quorum_lost)); then
            running=0
            for ((i = 0; i < N; i++)); do broker_pid "$dir" "$i" >/dev/null && running=$((running + 1)); done
            if ((running < N / 2 + 1)); then
                quorum_lost=1
                ((deadline > SECONDS + QUORUM_LOST_GRACE)) && deadline=$((SECONDS + QUORUM_LOST_GRACE))
            fi
        fi
        if ((SECONDS >= deadline)) && [[ $sig != KILL ]]; then
            log "broker(s) ${alive[*]} still running$( ((quorum_lost)) && echo " with the controller quorum gone"); sending SIGKILL"
            sig=KILL
            for i in "${alive[@]}"; do
                if pid=$(broker_pid "$dir" "$i"); then kill -KILL "$pid" 2>/dev/null || true; fi
            done
            deadline=$((SECONDS + 10))
        elif ((SECONDS >= deadline)); then
            die "broker(s) ${alive[*]} survived SIGKILL"
        fi
        sleep 0.2
    done
    for i in "$@"; do rm -f "$dir/broker-$i/pid"; done
}

write_env() { # DIR
    local dir=$1
    printf 'KAFKA_BROKERS=%s\nKAFKA_DIR=%q\n' "$(bootstrap)" "$dir" | tee "$dir/env.tmp"
    mv "$dir/env.tmp" "$dir/env"
}

parse_common() { # sets OPT_DIR OPT_INDEX OPT_BROKERS OPT_RM from "$@"
    OPT_DIR="" OPT_INDEX="" OPT_BROKERS="" OPT_RM=0
    while (($#)); do
        case $1 in
            --dir) OPT_DIR=${2:?--dir needs a value}; shift 2 ;;
            --dir=*) OPT_DIR=${1#*=}; shift ;;
            --index) OPT_INDEX=${2:?--index needs a value}; shift 2 ;;
            --index=*) OPT_INDEX=${1#*=}; shift ;;
            --brokers) OPT_BROKERS=${2:?--brokers needs a value}; shift 2 ;;
            --brokers=*) OPT_BROKERS=${1#*=}; shift ;;
            --rm) OPT_RM=1; shift ;;
            -h | --help) usage 0 ;;
            *) die "unknown argument '$1'" ;;
        esac
    done
}

# ---------------------------------------------------------------------------
# commands

cmd_start() {
    parse_common "$@"
    local dir=$OPT_DIR i t0=$SECONDS fresh=0 pids=() idx=""
    cmd_fetch

    if [[ -z $dir ]]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/logship-kafka.XXXXXX")
    else
        mkdir -p "$dir"
        dir=$(cd "$dir" && pwd)
    fi

    if [[ -f $dir/cluster.conf ]]; then
        # Existing cluster dir: restart all its brokers with the same ports and data.
        load_conf "$dir"
        [[ -z $OPT_BROKERS || $OPT_BROKERS == "$N" ]] \
            || die "$dir holds a $N-broker cluster, not $OPT_BROKERS"
        for ((i = 0; i < N; i++)); do
            ! broker_pid "$dir" "$i" >/dev/null || die "broker $i of $dir is already running"
        done
        log "restarting existing $N-broker cluster in $dir"
    else
        N=${OPT_BROKERS:-1}
        [[ $N =~ ^[1-9][0-9]*$ ]] || die "--brokers must be a positive integer"
        local ports
        ports=$("$PYTHON" "$PROBE" free-ports $((2 * N)))
        read -r -a PORTS <<<"$ports"
        CPORTS=("${PORTS[@]:N}")
        PORTS=("${PORTS[@]:0:N}")
        CLUSTER_ID=$("$PYTHON" "$PROBE" cluster-id)
        for ((i = 0; i < N; i++)); do write_props "$dir" "$i"; done
        log "formatting storage for $N broker(s), cluster id $CLUSTER_ID, in $dir"
        for ((i = 0; i < N; i++)); do
            run_java_tool kafka.tools.StorageTool format -t "$CLUSTER_ID" \
                -c "$dir/broker-$i/server.properties" --ignore-formatted \
                >"$dir/broker-$i/format.log" 2>&1 &
            pids+=($!)
        done
        for ((i = 0; i < N; i++)); do
            wait "${pids[i]}" || { cat "$dir/broker-$i/format.log" >&2; die "storage format failed for broker $i"; }
        done
        {
            echo "# kafka.sh cluster description; do not edit"
            echo "kafka_version=$KAFKA_VERSION"
            echo "num_brokers=$N"
            echo "cluster_id=$CLUSTER_ID"
            echo "ports=${PORTS[*]}"
            echo "controller_ports=${CPORTS[*]}"
        } >"$dir/cluster.conf"
        fresh=1
    fi

    CLEANUP_DIR=$dir
    for ((i = 0; i < N; i++)); do CLEANUP_IDX+=("$i"); launch_broker "$dir" "$i"; idx+="$i "; done
    log "started $N broker(s) on $(bootstrap); waiting until usable ..."
    local rf=$((N < 3 ? N : 3)) nodes
    nodes=$(seq -s, 0 $((N - 1)))
    wait_ready "$dir" "$idx" --nodes "$nodes" -t "$READY_TOPIC" --rf "$rf"
    log "cluster ready in $((SECONDS - t0))s ($([[ $fresh == 1 ]] && echo new || echo restarted))"
    write_env "$dir"
    CLEANUP_DIR=""
}

cmd_stop() {
    parse_common "$@"
    local dir i idx=()
    dir=$(resolve_dir "$OPT_DIR")
    load_conf "$dir"
    for ((i = 0; i < N; i++)); do idx+=("$i"); done
    signal_and_wait "$dir" TERM "${idx[@]}"
    log "stopped all brokers of $dir"
    if ((OPT_RM)); then
        rm -rf -- "$dir"
        log "removed $dir"
    fi
}

cmd_kill_broker() {
    parse_common "$@"
    local dir
    dir=$(resolve_dir "$OPT_DIR"); load_conf "$dir"
    [[ -n $OPT_INDEX ]] || die "--index is required"; check_index "$OPT_INDEX"
    broker_pid "$dir" "$OPT_INDEX" >/dev/null || log "broker $OPT_INDEX was not running"
    signal_and_wait "$dir" KILL "$OPT_INDEX"
    log "killed broker $OPT_INDEX (127.0.0.1:${PORTS[OPT_INDEX]})"
}

cmd_stop_broker() {
    parse_common "$@"
    local dir
    dir=$(resolve_dir "$OPT_DIR"); load_conf "$dir"
    [[ -n $OPT_INDEX ]] || die "--index is required"; check_index "$OPT_INDEX"
    broker_pid "$dir" "$OPT_INDEX" >/dev/null || log "broker $OPT_INDEX was not running"
    signal_and_wait "$dir" TERM "$OPT_INDEX"
    log "stopped broker $OPT_INDEX (127.0.0.1:${PORTS[OPT_INDEX]})"
}

cmd_start_broker() {
    parse_common "$@"
    local dir t0=$SECONDS
    dir=$(resolve_dir "$OPT_DIR"); load_conf "$dir"
    [[ -n $OPT_INDEX ]] || die "--index is required"; check_index "$OPT_INDEX"
    jars_cached || cmd_fetch
    ! broker_pid "$dir" "$OPT_INDEX" >/dev/null || die "broker $OPT_INDEX is already running"
    CLEANUP_DIR=$dir CLEANUP_IDX=("$OPT_INDEX")
    launch_broker "$dir" "$OPT_INDEX"
    # Ready once the broker is registered (unfenced) in the cluster metadata.
    wait_ready "$dir" "$OPT_INDEX" --nodes "$OPT_INDEX"
    log "broker $OPT_INDEX back on 127.0.0.1:${PORTS[OPT_INDEX]} after $((SECONDS - t0))s"
    CLEANUP_DIR=""
}

cmd_status() {
    parse_common "$@"
    local dir i pid rc=0
    dir=$(resolve_dir "$OPT_DIR"); load_conf "$dir"
    for ((i = 0; i < N; i++)); do
        if pid=$(broker_pid "$dir" "$i"); then
            echo "broker $i 127.0.0.1:${PORTS[i]} running pid $pid"
        else
            echo "broker $i 127.0.0.1:${PORTS[i]} stopped"; rc=1
        fi
    done
    "$PYTHON" "$PROBE" metadata -b "$(bootstrap)" || rc=1
    return "$rc"
}

cmd_tool() {
    (($#)) || die "tool needs a main class or alias (topics, console-producer, console-consumer, consumer-groups, get-offsets, metadata-quorum, storage, configs, producer-perf, consumer-perf, delete-records, dump-log)"
    local cls=$1
    shift
    case $cls in
        topics) cls=org.apache.kafka.tools.TopicCommand ;;
        console-producer) cls=kafka.tools.ConsoleProducer ;;
        console-consumer) cls=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
        consumer-groups) cls=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
        get-offsets) cls=org.apache.kafka.tools.GetOffsetShell ;;
        metadata-quorum) cls=org.apache.kafka.tools.MetadataQuorumCommand ;;
        storage) cls=kafka.tools.StorageTool ;;
        configs) cls=kafka.admin.ConfigCommand ;;
        producer-perf) cls=org.apache.kafka.tools.ProducerPerformance ;;
        consumer-perf) cls=org.apache.kafka.tools.ConsumerPerformance ;;
        delete-records) cls=org.apache.kafka.tools.DeleteRecordsCommand ;;
        dump-log) cls=kafka.tools.DumpLogSegments ;;
    esac
    jars_cached || cmd_fetch
    run_java_tool "$cls" "$@"
}

main() {
    (($#)) || usage
    local cmd=$1
    shift
    case $cmd in
        fetch) cmd_fetch "$@" ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        kill-broker) cmd_kill_broker "$@" ;;
        stop-broker) cmd_stop_broker "$@" ;;
        start-broker) cmd_start_broker "$@" ;;
        tool) cmd_tool "$@" ;;
        -h | --help | help) usage 0 ;;
        *) log "unknown command '$cmd'"; usage ;;
    esac
}

main "$@"
