// Package system owns kirikae's system files: the one description of a user's system, its
// two regions, its resources by the names the user knows them by, and its recovery
// objectives. Plans, readiness, drills and the simulator read the same description
// instead of each carrying its own copy of the names.
//
// The package is pure: it parses, validates, answers lookups and writes a canonical form.
// It never talks to AWS or to the control plane. It owns the format and nothing about
// where a System is stored or how a plan's ${system.…} reference is interpolated: those
// belong to the control plane and to plan, which call Lookup.
//
// # Names, not ids
//
// A system file names every resource as the user knows it: the VPC by its Name tag, a
// security group by its group name, the load balancer by its name, the hosted zone by its
// domain name. It never holds an id that changes when a resource is rebuilt (sg-…, vpc-…,
// fs-…, a hosted zone id, an ALB's DNS name or canonical zone id): those are looked up by
// name at run time, and Parse refuses them with a message that says so. ARNs are built
// from a name, the region and the account, so a name is wanted where a user might paste
// an ARN, except for a KMS key, which may be given either way.
//
// Things that plans refer to get a logical name of the user's choosing (api, db, alerts),
// so a plan says ${system.secondary.ecs.services.api.name} and the file says which service
// that is. Both regions name the same logical resources, because a failover refers to the
// secondary's and a cutback to the primary's.
//
// # Format
//
//	apiVersion: kirikae/v1                 # required, exactly this
//	kind: System                           # required, exactly this
//	metadata:
//	  name: kaigo-subsys                   # required: lower-case letters, digits, dashes
//	  description: "..."                   # optional, free text
//	spec:
//	  account: "123456789012"              # optional: 12 digits, quoted
//	  objectives:                          # required
//	    rpo: 1h                            # recovery point objective, a Go duration > 0
//	    rto: 4h                            # recovery time objective, a Go duration > 0
//	  dns:                                 # required: the public name that moves
//	    zone: kaigo-subsys.example.com     # the public hosted zone, by its domain name
//	    record: api.kaigo-subsys.example.com   # the zone's name or a name under it
//	    type: A                            # A (default) or AAAA: the alias record's type
//	  regions:                             # required: both roles
//	    primary:                           # where the system runs in peacetime
//	      region: us-east-1                # required: an AWS region name
//	      network:                         # required
//	        vpc: kaigo-subsys-prod-vpc     # required: the VPC's Name tag
//	        securityGroups:                # logical name -> security group name
//	          alb: kaigo-subsys-prod-alb-sg
//	          db: kaigo-subsys-prod-rds-sg
//	      database:                        # required: the RDS instance
//	        instance: kaigo-subsys-prod    # required: DB instance identifier
//	        engine: postgres               # required: postgres, mysql, mariadb, oracle-*, sqlserver-*, db2-*
//	        instanceClass: db.r6g.large    # required
//	        multiAZ: true                  # default false
//	        subnetGroup: kaigo-subsys-prod-db-subnet-group   # required
//	        parameterGroup: kaigo-subsys-postgres15          # required
//	        optionGroup: ...               # optional
//	        securityGroup: db              # required: a logical name from network.securityGroups
//	        kmsKey: alias/prod             # optional: key id, key ARN, alias/NAME or alias ARN
//	      cache:                           # optional: the ElastiCache replication group
//	        replicationGroup: kaigo-subsys-prod   # required
//	        engine: redis                  # redis (default) or valkey
//	        engineVersion: "7.0"           # optional; quote it, or YAML reads 7.0 as a number
//	        nodeType: cache.r6g.large      # required
//	        nodes: 2                       # cache clusters in the group, 1 to 6, default 1
//	        subnetGroup: kaigo-subsys-prod-cache-subnet-group   # required
//	        securityGroup: cache           # required: a logical name from network.securityGroups
//	      backup:                          # optional: AWS Backup
//	        vault: kaigo-subsys-prod-backup-vault   # required: the vault with EFS recovery points
//	        fileSystem: kaigo-subsys-prod-efs       # optional: the EFS file system's Name tag
//	        restoreRole: AWSBackupDefaultServiceRole   # optional: IAM role name to restore with
//	      secrets:                         # optional: logical name -> Secrets Manager secret name
//	        db: kaigo-subsys/prod/db-endpoint
//	      loadBalancer:                    # required: the ALB the DNS record points at
//	        name: kaigo-subsys-prod-alb
//	      ecs:                             # required
//	        cluster: kaigo-subsys-prod     # required
//	        services:                      # required, one or more: logical name -> service
//	          api:
//	            name: kaigo-subsys-prod-service   # required, unique in the region
//	            taskFamily: kaigo-subsys-prod     # required: the family, without :revision
//	            targetGroup: kaigo-subsys-prod    # optional: target group name, unique in the region
//	            desiredCount: 2                   # required: tasks when the region is active, 1 to 5000
//	            image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest   # optional
//	      topics:                          # optional: logical name -> SNS topic name
//	        alerts: kaigo-subsys-prod-critical-alerts
//	      bucket: kaigo-subsys-prod-backups   # optional: S3 bucket (replication source or destination)
//	    secondary:                         # the region the system fails over to: the same shape
//	      region: us-west-2
//	      ...
//
// deploy/systems/kaigo.yaml describes the seed system with every resource the runbooks
// name; deploy/systems/example-eu.yaml is a system with two services and no cache.
//
// # Validation
//
// Parse is strict and reports every problem at once, each as FILE:LINE: FIELD: MESSAGE,
// the field a path such as spec.regions.secondary.ecs.services.api.desiredCount. It
// refuses: an unknown key (suggesting the key it is closest to), a value of the wrong type
// (desiredCount: "2" is a string), a missing required field, a YAML duplicate key, a
// name that does not fit AWS's rules for its kind of resource, an id where a name belongs,
// a region name that is not one, the same region twice, a logical reference to a security
// group that network.securityGroups does not name, a logical name that one region has and
// the other has not, a cache in one region only, two engines, one resource under two
// logical names (two secrets, topics or security groups with one name), two ECS services
// of one name or target group in a region, one bucket for both regions (bucket names are
// global), a KMS key ARN of another region or account, a DNS record outside its zone, a
// wrong apiVersion or kind, more than one YAML document, and a file past a size limit
// ([MaxBytes], [MaxDepth], [MaxExpanded]).
//
// # Paths
//
// Lookup reads a value by a dotted path that starts at the top of the description and
// names regions by role: name, account, objectives.rpo, dns.record, primary.region,
// secondary.loadBalancer.name, secondary.ecs.services.api.desiredCount,
// secondary.database.securityGroup (the group's name, not its logical one). Paths lists
// them all. A plan writes ${system.PATH}.
//
// # Canonical form
//
// Marshal writes the system as a system file with every default explicit, keys in the
// order above, logical names sorted and no comments, so two files that say the same thing
// have the same canonical form and the same Digest. The control plane stores and compares
// that form; Parse reads it back into the same System.
package system
