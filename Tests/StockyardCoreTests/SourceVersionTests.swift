import Foundation
import PropertyBased
@testable import StockyardCore
import Testing

/// RFC 3339 timestamps as source versions: microseconds since 1970-01-01T00:00:00Z.
@Suite struct SourceVersionTests {
    let second: Int64 = 1_000_000
    var minute: Int64 { 60 * second }
    var hour: Int64 { 60 * minute }
    var day: Int64 { 24 * hour }

    func parse(_ text: String) -> Int64? { SourceVersion.parseTimestamp(text) }

    @Test func epochInUTC() {
        #expect(parse("1970-01-01T00:00:00Z") == 0)
        #expect(parse("1970-01-01T00:00:01Z") == second)
        #expect(parse("1970-01-01T01:02:03Z") == hour + 2 * minute + 3 * second)
        #expect(parse("1970-01-02T00:00:00Z") == day)
        #expect(parse("1971-01-01T00:00:00Z") == 365 * day)
    }

    @Test func calendarArithmetic() {
        // 1970 … 1999 hold 30 years, 7 of them leap (1972 … 1996): 10957 days to 2000-01-01.
        let y2k = (30 * 365 + 7) * day
        #expect(parse("2000-01-01T00:00:00Z") == y2k)
        // 2000 is a leap year: January (31) and February (29) precede March.
        #expect(parse("2000-03-01T00:00:00Z") == y2k + (31 + 29) * day)
        #expect(parse("2000-02-29T00:00:00Z") == y2k + (31 + 28) * day)
        // 2000 has 366 days.
        #expect(parse("2001-01-01T00:00:00Z") == y2k + 366 * day)
    }

    @Test func lowerCaseAndSpaceSeparators() {
        let reference = parse("2026-11-23T10:40:00Z")
        #expect(reference != nil)
        #expect(parse("2026-11-23t10:40:00z") == reference)
        #expect(parse("2026-11-23 10:40:00Z") == reference)
    }

    @Test func offsetsAreSubtracted() {
        #expect(parse("1970-01-01T01:00:00+01:00") == 0)
        #expect(parse("1969-12-31T23:00:00-01:00") == 0)
        #expect(parse("1970-01-01T05:30:00+05:30") == 0)
        #expect(parse("2026-11-23T00:00:00+00:00") == parse("2026-11-23T00:00:00Z"))
        #expect(parse("2026-11-23T00:00:00-00:00") == parse("2026-11-23T00:00:00Z"))
        #expect(parse("2026-11-23T10:40:00.123-05:00") == parse("2026-11-23T15:40:00.123Z"))
        // Across a date line.
        #expect(parse("2026-11-24T08:00:00+14:00") == parse("2026-11-23T18:00:00Z"))
    }

    @Test func fractionalSeconds() throws {
        let base = try #require(parse("2026-01-01T00:00:00Z"))
        #expect(parse("2026-01-01T00:00:00.5Z") == base + second / 2)
        #expect(parse("2026-01-01T00:00:00.05Z") == base + second / 20)
        #expect(parse("2026-01-01T00:00:00.123Z") == base + 123_000)
        #expect(parse("2026-01-01T00:00:00.000001Z") == base + 1)
        #expect(parse("2026-01-01T00:00:00.123456Z") == base + 123_456)
        // Beyond microseconds the digits are dropped, not rounded.
        #expect(parse("2026-01-01T00:00:00.1234569Z") == base + 123_456)
        #expect(parse("2026-01-01T00:00:00.999999999+00:00") == base + second - 1)
        #expect(parse("2026-01-01T00:00:00.Z") == nil)
    }

    @Test func orderingAcrossOffsets() throws {
        // 10:00 at +02:00 is 08:00 UTC: earlier than 09:00 UTC although it reads later.
        let eastern = try #require(parse("2026-03-01T10:00:00+02:00"))
        let utc = try #require(parse("2026-03-01T09:00:00Z"))
        #expect(eastern < utc)
        #expect(utc - eastern == hour)
        // 23:30 on the 1st at −05:00 is 04:30 UTC on the 2nd.
        let western = try #require(parse("2026-03-01T23:30:00-05:00"))
        let nextMorning = try #require(parse("2026-03-02T04:00:00Z"))
        #expect(western > nextMorning)
        #expect(western - nextMorning == 30 * minute)
    }

    @Test func leapSecondIsAccepted() {
        #expect(parse("2016-12-31T23:59:60Z") == parse("2017-01-01T00:00:00Z"))
    }

    @Test(arguments: [
        "2026-02-30T00:00:00Z",  // February has no 30th
        "2023-02-29T00:00:00Z",  // not a leap year
        "2100-02-29T00:00:00Z",  // century, not a leap year
        "2026-04-31T00:00:00Z",  // April has 30 days
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-01T24:00:00Z",  // hour 24
        "2026-01-01T23:60:00Z",
        "2026-01-01T23:59:61Z",
        "2026-01-01T00:00:00",  // missing zone
        "2026-01-01T00:00:00.123",  // missing zone after a fraction
        "2026-01-01",
        "",
        "2026-01-01T00:00:00+0100",  // offset without colon
        "2026-01-01T00:00:00+01",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00+01:60",
        "2026-01-01T00:00:00Z ",  // trailing text
        "2026-01-01T00:00:00ZZ",
        "2026-01-01X00:00:00Z",
        "2026/01/01T00:00:00Z",
        "20a6-01-01T00:00:00Z",
        "2026-01-01T0:00:00Z",
        "1969-12-31T23:59:59Z",  // before the epoch
        "1970-01-01T00:00:00+00:01",
        "+2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00\u{0}Z",
    ])
    func invalidTimestampsAreRejected(_ text: String) {
        #expect(parse(text) == nil)
    }

    @Test(arguments: ["2024-02-29T12:00:00Z", "2000-02-29T00:00:00Z", "2026-12-31T23:59:59Z", "9999-12-31T23:59:59.999999Z"])
    func validEdgeDatesAreAccepted(_ text: String) {
        #expect(parse(text) != nil)
    }

    // MARK: Against Foundation's calendar

    static var utcCalendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    @Test func agreesWithTheGregorianCalendar() async {
        let date = zip(
            Gen.int(in: 1971...2400), Gen.int(in: 1...12), Gen.int(in: 1...31),
            Gen.int(in: 0...23), Gen.int(in: 0...59), Gen.int(in: 0...59))
        let extras = zip(Gen.int(in: 0...999_999_999), Gen.int(in: 0...9), Gen.int(in: -(23 * 60 + 59)...(23 * 60 + 59)), Gen.bool)
        await propertyCheck(count: 500, input: date, extras) { date, extras in
            let (year, month, dayOfMonth, hourOfDay, minuteOfHour, secondOfMinute) = date
            let (fractionValue, fractionDigits, offsetMinutes, useZ) = extras
            let components = DateComponents(
                year: year, month: month, day: dayOfMonth, hour: hourOfDay, minute: minuteOfHour,
                second: secondOfMinute)
            let calendar = Self.utcCalendar
            let valid = components.isValidDate(in: calendar)

            var text = "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(dayOfMonth, 2))T"
                + "\(Self.pad(hourOfDay, 2)):\(Self.pad(minuteOfHour, 2)):\(Self.pad(secondOfMinute, 2))"
            // The first `fractionDigits` digits of a nine-digit fraction.
            let fraction = String(Self.pad(fractionValue, 9).prefix(fractionDigits))
            if !fraction.isEmpty { text += "." + fraction }
            let offset = useZ ? 0 : offsetMinutes
            if useZ {
                text += "Z"
            } else {
                text += (offset < 0 ? "-" : "+") + Self.pad(abs(offset) / 60, 2) + ":" + Self.pad(abs(offset) % 60, 2)
            }

            let parsed = SourceVersion.parseTimestamp(text)
            guard valid, let local = calendar.date(from: components) else {
                #expect(parsed == nil, "\(text)")
                return
            }
            let micros = Int64(String((fraction + "000000").prefix(6)))!
            let expected = (Int64(local.timeIntervalSince1970) - Int64(offset) * 60) * 1_000_000 + micros
            #expect(parsed == expected, "\(text)")
        }
    }

    @Test func laterInstantsHaveHigherVersions() async {
        let instant = zip(Gen.int64(in: 0...4_000_000_000), Gen.int(in: -(14 * 60)...(14 * 60)))
        await propertyCheck(count: 300, input: instant, instant) { a, b in
            let (first, second) = (Self.format(a.0, offsetMinutes: a.1), Self.format(b.0, offsetMinutes: b.1))
            guard let x = SourceVersion.parseTimestamp(first), let y = SourceVersion.parseTimestamp(second) else {
                Issue.record("unparsed: \(first) \(second)")
                return
            }
            #expect(x == a.0 * 1_000_000)
            #expect(y == b.0 * 1_000_000)
            #expect((x < y) == (a.0 < b.0), "\(first) vs \(second)")
        }
    }

    /// Formats seconds since the epoch as local time at an offset, through Foundation.
    static func format(_ seconds: Int64, offsetMinutes: Int) -> String {
        let local = Date(timeIntervalSince1970: TimeInterval(seconds + Int64(offsetMinutes) * 60))
        let parts = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: local)
        let sign = offsetMinutes < 0 ? "-" : "+"
        return "\(pad(parts.year!, 4))-\(pad(parts.month!, 2))-\(pad(parts.day!, 2))T"
            + "\(pad(parts.hour!, 2)):\(pad(parts.minute!, 2)):\(pad(parts.second!, 2))"
            + "\(sign)\(pad(abs(offsetMinutes) / 60, 2)):\(pad(abs(offsetMinutes) % 60, 2))"
    }
}
