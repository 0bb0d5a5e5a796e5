/*
 * worker.h - the worker process: runs one workload and streams its
 * progress, verdict lines and result to the supervisor.
 *
 * Protocol (one line per message on the message fd, tab-separated):
 *   P <done> <total> <rate/s> <text>   progress
 *   V <status> <metric> <text>         a human verdict line
 *   R <json>                           the workload's result object
 * The result is the last message; a worker that dies before sending it
 * is judged by the supervisor (crashed / timeout).
 */
#ifndef LEAKHOUND_WORKER_H
#define LEAKHOUND_WORKER_H

#define LH_WORKER_CMD "__worker"

/* argv after the hidden subcommand: --script S --index N --seed N
 * --msg-fd N --flight-fd N */
int lh_worker_main(int argc, char **argv);

#endif
