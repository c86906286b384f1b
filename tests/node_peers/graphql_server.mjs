// graphql-ws over ws on 127.0.0.1 and a free port, printed as "listening on PORT":
// subscription count(to) yields 1..to, then completes.
import { WebSocketServer } from "ws";
import { useServer } from "graphql-ws/use/ws";
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { hello: { type: GraphQLString, resolve: () => "world" } } }),
  subscription: new GraphQLObjectType({
    name: "Subscription",
    fields: {
      count: {
        type: GraphQLInt,
        args: { to: { type: new GraphQLNonNull(GraphQLInt) } },
        subscribe: async function* (_, { to }) {
          for (let n = 1; n <= to; n++) yield { count: n };
        },
      },
    },
  }),
});

const server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/graphql" });
useServer({ schema }, server);
server.on("listening", () => console.log(`listening on ${server.address().port}`));
