/* global rs, db, sleep, print */
// Run once by the mongo-init job (mongosh, as the root user on mongo1): forms the replica set
// and creates the application's user. Safe to run again.
const members = ['mongo1:27017', 'mongo2:27017', 'mongo3:27017'];
try {
  rs.status();
} catch {
  rs.initiate({ _id: 'rs0', members: members.map((host, i) => ({ _id: i, host })) });
}
while (!db.hello().isWritablePrimary) sleep(500);
const admin = db.getSiblingDB('admin');
if (!admin.getUser(process.env.EQI_DB_USER)) {
  admin.createUser({
    user: process.env.EQI_DB_USER,
    pwd: process.env.EQI_DB_PASSWORD,
    roles: [{ role: 'readWrite', db: 'eqi' }],
  });
}
print('replica set rs0 ready');
