package auditlens.esnode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.ClasspathNode;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.netty4.Netty4Plugin;

/**
 * Runs one Elasticsearch node for tests: loopback only, plain HTTP, data under
 * the given home folder. Arguments: HOME HTTP_PORT (0 picks a free port; the
 * bound address is written to HOME/logs/http.ports). Stops on SIGTERM.
 */
public final class TestNode {

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: TestNode HOME HTTP_PORT");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        // The node creates its data folder but expects the logs folder to exist.
        Files.createDirectories(home.resolve("logs"));
        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "es-test-node")
            .put("node.name", "es-test-node")
            // One node that elects itself, reachable from this machine only.
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", args[1])
            // The node-to-node port is unused by a single node but always bound: any free one.
            .put("transport.port", "0")
            // Lets the start script learn the port the node actually bound.
            .put("node.portsfile", true)
            // Test machines often have fuller disks than a production node may use.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // Tests delete their indices by pattern.
            .put("action.destructive_requires_name", false)
            // Log4j's built-in console configuration logs errors only; INFO makes a failed start readable.
            .put("logger.level", "INFO")
            .build();

        // Log to standard output (the start script sends it to HOME/logs/node.log): no log4j2.properties needed.
        LogConfigurator.configureWithoutConfig(settings);
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Map.of(), home.resolve("config"), () -> "es-test-node");
        Node node = new ClasspathNode(environment, List.of(Netty4Plugin.class, RootInfoPlugin.class));

        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                closed.countDown();
            }
        }, "es-test-node-shutdown"));

        try {
            node.start();
        } catch (Throwable e) {
            // Exit even if some non-daemon thread was started: the start script is waiting on us.
            e.printStackTrace();
            System.exit(1);
        }
        // The node's threads are daemons: keep the JVM alive until it is told to stop.
        closed.await();
    }
}
