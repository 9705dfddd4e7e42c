import Foundation
import XCTest

/// The monitoring files ops teams import: the alert rules pass Prometheus's own check, and the
/// dashboard is a Grafana dashboard whose panels each query a Prometheus data source. That both name
/// only exported metrics is checked against running daemons (`FleetRolloutTests`).
final class DeployMonitoringTests: XCTestCase {
    private let deploy = SystemTestSupport.packageRoot.appendingPathComponent("Deploy")

    func testTheAlertRulesPassPromtool() throws {
        let rules = deploy.appendingPathComponent("prometheus/alerts.yaml").path
        let (status, output) = try SystemTestSupport.run(URL(fileURLWithPath: "/usr/bin/promtool"), ["check", "rules", rules])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("SUCCESS: 5 rules found"), output)
    }

    func testTheDashboardsPanelsEachQueryPrometheusAndTileTheGrid() throws {
        let data = try Data(contentsOf: deploy.appendingPathComponent("grafana/quantfleet.json"))
        let dashboard = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(dashboard["uid"] as? String, "quantfleet")
        let panels = try XCTUnwrap(dashboard["panels"] as? [[String: Any]])
        XCTAssertEqual(Set(panels.compactMap { $0["id"] as? Int }).count, panels.count, "panel ids are unique")
        for panel in panels {
            let title = panel["title"] as? String ?? "?"
            let grid = try XCTUnwrap(panel["gridPos"] as? [String: Int], title)
            XCTAssertLessThanOrEqual(grid["x"]! + grid["w"]!, 24, "\(title) fits the 24-column grid")
            guard panel["type"] as? String != "row" else { continue }
            let targets = try XCTUnwrap(panel["targets"] as? [[String: Any]], title)
            XCTAssertFalse(targets.isEmpty, title)
            for target in targets {
                XCTAssertTrue((target["expr"] as? String)?.contains("quantfleet_") ?? false, "\(title): \(target)")
                XCTAssertEqual((target["datasource"] as? [String: String])?["type"], "prometheus", title)
            }
        }
    }
}
