/*
 * worker.h - the worker process: runs one workload and streams its
 * progress, verdict lines and result to the supervisor.
 *
 * Protocol: one JSON object per line on the message fd, written and read
 * with json.h (so names and texts may hold any bytes, tabs and newlines):
 *   {"type":"progress","done":N,"total":N,"rate":R,"text":S}
 *   {"type":"verdict","status":"pass"|"fail"|"error"|"info",
 *    "metric":S|null,"text":S}                   a human verdict line
 *   {"type":"interim","result":{...}}            the verdicts so far
 *   {"type":"result","result":{...}}             the workload's result
 * The result is the last message; a worker that dies before sending it
 * is judged by the supervisor (crashed / timeout), with the last interim
 * result if there was one: the same object, judged on the samples taken
 * so far (no sites), with a "partial" member (reports/README.md).
 */
#ifndef LEAKHOUND_WORKER_H
#define LEAKHOUND_WORKER_H

#define LH_WORKER_CMD "__worker"

/* argv after the hidden subcommand: --script S --index N --seed N
 * --msg-fd N --flight-fd N */
int lh_worker_main(int argc, char **argv);

#endif
