import { test } from 'node:test'
import assert from 'node:assert/strict'
import { attributeWaits } from '../../bench/sched-trace.js'

// `perf script -F pid,tid,cpu,time,event,trace` lines, times in seconds.
const waking = (t: number, by: string, cpu: number, pid: number, comm = 'node') =>
  `  ${by}   [00${cpu}]  ${t.toFixed(6)}:       sched:sched_waking: comm=${comm} pid=${pid} prio=120 target_cpu=00${cpu}`
const sw = (t: number, cpu: number, prev: [number, number, string, string], next: [number, number, string]) =>
  `  ${prev[0]}/${prev[1]}   [00${cpu}]  ${t.toFixed(6)}: sched:sched_switch: prev_comm=${prev[2]} prev_pid=${prev[1]} prev_prio=120 prev_state=${prev[3]} ==> next_comm=${next[2]} next_pid=${next[1]} next_prio=120`

test('a long wait of a watched thread is attributed to whoever held each CPU meanwhile', () => {
  const trace = [
    // CPU 0: the writer (pid 50) runs; CPU 1: the service's GC thread (101 of pid 100), then idle.
    sw(1.000, 0, [0, 0, 'swapper/0', 'R'], [50, 50, 'node']),
    sw(1.000, 1, [0, 0, 'swapper/1', 'R'], [100, 101, 'node']),
    waking(1.002, '60/60', 0, 100),
    sw(1.012, 1, [100, 101, 'node', 'S'], [0, 0, 'swapper/1']),
    // The service's main thread (100) gets CPU 0 at 1.022: it waited 20 ms.
    sw(1.022, 0, [50, 50, 'node', 'R'], [100, 100, 'node']),
    sw(1.023, 1, [0, 0, 'swapper/1', 'R'], [70, 70, 'rsync']),
  ].join('\n')
  const [main] = attributeWaits(trace, [{ label: 'main', pid: 100 }], [{ label: 'writer', pid: 50 }])
  assert.equal(main!.waits, 1)
  assert.ok(Math.abs(main!.totalMs - 20) < 1e-6)
  assert.ok(Math.abs(main!.longestMs - 20) < 1e-6)
  const rounded = Object.fromEntries(Object.entries(main!.cpuMs).map(([k, v]) => [k, Math.round(v)]))
  assert.deepEqual(rounded, { writer: 20, 'its own other threads': 10, 'CPU idle': 10 })
})

test('a thread preempted while runnable waits from the switch, and short waits are not counted', () => {
  const trace = [
    sw(2.000, 0, [0, 0, 'swapper/0', 'R'], [100, 100, 'node']),
    sw(2.001, 0, [100, 100, 'node', 'R'], [70, 70, 'rsync']),
    sw(2.003, 0, [70, 70, 'rsync', 'R'], [100, 100, 'node']),
    sw(2.004, 0, [100, 100, 'node', 'R'], [70, 70, 'rsync']),
    sw(2.014, 0, [70, 70, 'rsync', 'S'], [100, 100, 'node']),
  ].join('\n')
  const [main] = attributeWaits(trace, [{ label: 'main', pid: 100 }], [])
  assert.equal(main!.waits, 1)
  assert.deepEqual(Object.fromEntries(Object.entries(main!.cpuMs).map(([k, v]) => [k, Math.round(v)])), { rsync: 10 })
})

test('a wake-up of a thread that is running starts no wait, and a sleep ends one', () => {
  const trace = [
    sw(3.000, 0, [0, 0, 'swapper/0', 'R'], [100, 100, 'node']),
    // Woken while still on the CPU (between setting its state and sleeping): not a wait.
    waking(3.001, '60/60', 0, 100),
    sw(3.002, 0, [100, 100, 'node', 'S'], [70, 70, 'rsync']),
    sw(3.100, 0, [70, 70, 'rsync', 'S'], [100, 100, 'node']),
  ].join('\n')
  const [main] = attributeWaits(trace, [{ label: 'main', pid: 100 }], [])
  assert.equal(main!.waits, 0)
})

test('an exiting task (printed as PID/-1) still ends its span and lets the waiting thread in', () => {
  const trace = [
    sw(4.000, 0, [0, 0, 'swapper/0', 'R'], [80, 81, 'node']),
    waking(4.001, '60/60', 0, 100),
    '  80/81   [000]  4.005000: sched:sched_stat_runtime: comm=node pid=81 runtime=4000000 [ns]',
    '  80/-1   [000]  4.011000: sched:sched_switch: prev_comm=node prev_pid=81 prev_prio=120 prev_state=X ==> next_comm=node next_pid=100 next_prio=120',
  ].join('\n')
  const [main] = attributeWaits(trace, [{ label: 'main', pid: 100 }], [{ label: 'dying', pid: 80 }])
  assert.equal(main!.waits, 1)
  assert.deepEqual(Object.fromEntries(Object.entries(main!.cpuMs).map(([k, v]) => [k, Math.round(v)])), { dying: 10 })
})

test('a CPU busy from before its first switch to after the last event counts for the whole wait', () => {
  const trace = [
    // CPU 1 runs rsync throughout: it switches only at 5.030, after the wait.
    waking(5.000, '60/60', 0, 100),
    sw(5.001, 0, [50, 50, 'node', 'R'], [50, 50, 'node']),
    sw(5.020, 0, [50, 50, 'node', 'R'], [100, 100, 'node']),
    sw(5.030, 1, [70, 70, 'rsync', 'R'], [70, 70, 'rsync']),
  ].join('\n')
  const [main] = attributeWaits(trace, [{ label: 'main', pid: 100 }], [{ label: 'writer', pid: 50 }])
  assert.equal(main!.waits, 1)
  assert.deepEqual(Object.fromEntries(Object.entries(main!.cpuMs).map(([k, v]) => [k, Math.round(v)])), { writer: 20, rsync: 20 })
})
