import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local bound to 127.0.0.1 only.
 *
 * DynamoDB Local has no bind-address option: DynamoDBProxyServer creates its Jetty server with
 * `new Server(port)`, which listens on every interface. This builds the server exactly as the jar's
 * own main does (ServerRunner.createServerFromCommandLineArgs, same arguments), sets the host of its
 * connectors before anything binds, then starts it. Telemetry is never configured here, which is
 * what -disableTelemetry asks for anyway.
 *
 * Contract with packages/local/src/dynamoDbLocal.ts: once Jetty is listening this prints one line
 * `commandbus-dynamodb-local listening <host>:<port>` on stdout (the readiness identity check);
 * on any failure it prints the reason on stderr and exits with status 3.
 *
 * Usage: java -cp <this class dir>:DynamoDBLocal.jar LoopbackDynamoDbLocal <host> <DynamoDB Local args...>
 */
public final class LoopbackDynamoDbLocal {
  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: LoopbackDynamoDbLocal <host> <DynamoDB Local arguments...>");
      System.exit(2);
    }
    String host = args[0];
    String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
    try {
      DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(rest);
      Field field = DynamoDBProxyServer.class.getDeclaredField("server");
      field.setAccessible(true);
      Server jetty = (Server) field.get(proxy);
      Connector[] connectors = jetty.getConnectors();
      if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local's Jetty server has no connectors");
      for (Connector connector : connectors) {
        if (!(connector instanceof ServerConnector)) {
          throw new IllegalStateException("unexpected Jetty connector " + connector.getClass().getName());
        }
        ((ServerConnector) connector).setHost(host);
      }
      // safeStart() is Server.start() without the jar's catch-and-carry-on on a bind failure.
      proxy.safeStart();
      StringBuilder bound = new StringBuilder();
      for (Connector connector : connectors) {
        ServerConnector sc = (ServerConnector) connector;
        if (bound.length() > 0) bound.append(',');
        bound.append(sc.getHost()).append(':').append(sc.getLocalPort());
      }
      System.out.println("commandbus-dynamodb-local listening " + bound);
      System.out.flush();
      proxy.join();
    } catch (Throwable error) {
      System.err.println("commandbus-dynamodb-local failed: " + error);
      System.err.flush();
      // Jetty's threads are non-daemon: exit explicitly so a failed start never lingers.
      System.exit(3);
    }
  }
}
