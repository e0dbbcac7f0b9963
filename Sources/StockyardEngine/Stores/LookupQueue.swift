/// Notifications waiting for a look-up of their order in the channel's API, by job id.
package struct LookupQueue {
    package var jobs: [String: LookupJob] = [:]
    /// Moves each time jobs are stored, so idle workers know when to look again.
    package var generation = 0

    package init() {}

    package var count: Int { jobs.count }

    /// How many jobs wait, and the arrival of the oldest (milliseconds since 1970).
    package var backlog: (count: Int, oldest: Int64?) { (jobs.count, jobs.values.map(\.receivedAt).min()) }

    /// Waiting jobs, the longest waiting first.
    package func list(limit: Int) -> [LookupJob] {
        Array(jobs.values.sorted { ($0.receivedAt, $0.id) < ($1.receivedAt, $1.id) }.prefix(limit))
    }

    /// Up to `limit` jobs of `kind` due by `now` (milliseconds) and not in `excluding`, the
    /// longest waiting first; the earliest time a job not due yet falls due; and the generation.
    package func due(
        _ kind: LookupJob.Kind, now: Int64, limit: Int, excluding: Set<String>
    ) -> (jobs: [LookupJob], nextDue: Int64?, generation: Int) {
        var due: [LookupJob] = []
        var nextDue: Int64?
        for job in jobs.values where job.kind == kind && !excluding.contains(job.id) {
            if job.notBefore <= now {
                due.append(job)
            } else {
                nextDue = min(nextDue ?? job.notBefore, job.notBefore)
            }
        }
        let first = due.sorted { ($0.receivedAt, $0.id) < ($1.receivedAt, $1.id) }.prefix(limit)
        return (Array(first), nextDue, generation)
    }

    package mutating func apply(added: [LookupJob], removed: [String]) {
        for id in removed { jobs[id] = nil }
        for job in added { jobs[job.id] = job }
        if !added.isEmpty { generation += 1 }
    }
}
