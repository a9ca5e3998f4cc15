/**
 * etcd's Lease service is not served yet (leases arrive with issue 13): every call, the
 * LeaseKeepAlive stream included, answers UNIMPLEMENTED with a sentence saying so, which etcd
 * clients show as it is.
 */
import {LeaseService} from '../../../generated/etcd/etcdserverpb/lease.js'
import type {UntypedServiceImplementation} from '@grpc/grpc-js'
import {unimplementedService} from '../common.js'

/** The answer to every Lease call. */
export const LEASES_UNSUPPORTED = 'leases are not supported by this raftctl version'

export const leaseService = (): UntypedServiceImplementation => unimplementedService(LeaseService, LEASES_UNSUPPORTED)
