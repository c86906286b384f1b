// subscriptions-transport-ws (the legacy GraphQL over WebSocket protocol, subprotocol graphql-ws) on a node http
// server at 127.0.0.1 and a free port, path /legacy, printed as "listening on PORT": subscription count(to)
// yields 1..to, then completes.
import http from "node:http";
import pkg from "subscriptions-transport-ws";
import { execute, subscribe, GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
const { SubscriptionServer } = pkg;
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { hello: { type: GraphQLString, resolve: () => "world" } } }),
  subscription: new GraphQLObjectType({ name: "Subscription", fields: { count: { type: GraphQLInt,
    args: { to: { type: new GraphQLNonNull(GraphQLInt) } },
    subscribe: async function* (_, { to }) { for (let n = 1; n <= to; n++) yield { count: n }; } } } }),
});
const server = http.createServer();
SubscriptionServer.create({ schema, execute, subscribe, keepAlive: 0 }, { server, path: "/legacy" });
server.listen(0, "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
