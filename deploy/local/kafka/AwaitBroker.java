// Waits until a Kafka broker answers a metadata request, or gives up.
// Run as a single-file program: java -cp 'libs/*' AwaitBroker.java HOST:PORT SECONDS [PID]
// Exit 0 when the broker named a cluster node, 1 on time-out or when the broker
// process PID has died (so a broken start fails at once, not after the time-out). Polling with a real
// request is more reliable than scraping the log line "Kafka Server started".
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

public class AwaitBroker {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
        Long brokerPid = args.length > 2 ? Long.parseLong(args[2]) : null;
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "2000");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
        try (Admin admin = Admin.create(props)) {
            while (System.nanoTime() < deadline) {
                if (brokerPid != null && ProcessHandle.of(brokerPid).map(p -> !p.isAlive()).orElse(true)) {
                    System.err.println("the Kafka process " + brokerPid + " has exited");
                    System.exit(1);
                }
                try {
                    int nodes = admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).size();
                    if (nodes > 0) {
                        System.exit(0);
                    }
                } catch (Exception notYet) {
                    Thread.sleep(200);
                }
            }
        }
        System.err.println("Kafka at " + bootstrap + " did not answer in time");
        System.exit(1);
    }
}
